// Turns what a person types into an FTS5 query that cannot be a syntax error: every word becomes a quoted
// phrase (quotes inside doubled), so `"`, `*`, `(`, `NEAR(`, `AND`, `-` and `:` are plain text; a word that ends in
// `*` stays a prefix search. Words without a letter or digit are dropped: the tokenizer would drop them anyway.
import { StudioError } from '../common/errors';

const WORDLIKE = /[\p{L}\p{N}]/u;

export function plainToFts(text: string): string {
  const terms: Array<string> = [];
  for (const word of text
    .normalize('NFC')
    .replace(/\p{Cc}/gu, ' ')
    .split(/\s+/u)) {
    const prefix = word.length > 1 && word.endsWith('*');
    const body = prefix ? word.replace(/\*+$/u, '') : word;
    if (!WORDLIKE.test(body)) continue;
    terms.push(`"${body.replaceAll('"', '""')}"${prefix ? '*' : ''}`);
  }
  if (terms.length === 0) {
    throw new StudioError('SEARCH_SYNTAX', 'The search has no words to look for (letters or digits).');
  }
  return terms.join(' ');
}

/** Wraps SQLite's complaint about an advanced (`fts`) query into SEARCH_SYNTAX. */
export function ftsSyntaxError(error: unknown): StudioError | null {
  const message = error instanceof Error ? error.message : '';
  if (!/fts5|unterminated string|no such column|unknown special query/i.test(message)) return null;
  return new StudioError(
    'SEARCH_SYNTAX',
    `The search could not be understood (${message}). Use plain words, or see SQLite FTS5 query syntax.`,
  );
}
