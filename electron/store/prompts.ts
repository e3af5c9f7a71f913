// Prompt history for completion: the prompts of the library's generations (not those only in the trash, and not
// negative prompts), the ones that start with what is typed first, then the ones that contain it, newest use first.
import type { PromptUse } from '../common/api/library';
import { iso, type StoreContext } from './context';

export function recentPrompts(ctx: StoreContext, text = '', limit = 10): Array<PromptUse> {
  const query = text.trim().toLowerCase();
  const rows = ctx
    .prepare(
      `SELECT p.text, p.last_used_at AS lastUsed, p.use_count AS uses FROM prompts p
       WHERE p.text <> '' AND instr(lower(p.text), @query) > 0
         AND EXISTS (SELECT 1 FROM generations g WHERE g.prompt_id = p.id
                     AND NOT EXISTS (SELECT 1 FROM trash t WHERE t.generation_id = g.id))
       ORDER BY substr(lower(p.text), 1, length(@query)) = @query DESC, p.last_used_at DESC, p.id DESC
       LIMIT @limit`,
    )
    .all({ query, limit: Math.min(Math.max(limit, 1), 50) }) as Array<{ text: string; lastUsed: number; uses: number }>;
  return rows.map((row) => ({ text: row.text, lastUsedAt: iso(row.lastUsed), uses: row.uses }));
}
