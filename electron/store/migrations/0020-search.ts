// 20: full-text search (FTS5) over each generation's prompt, tag names and board names, kept in step by triggers.
// Contentless (the text lives in its own tables); contentless_delete lets triggers replace and delete rows.
// The FTS rowid is the generation id, so "newest matches first" walks the index backwards and stops at the page size.
import type { Database } from 'better-sqlite3';

/** A trigger that re-indexes the generations `which` selects (INSERT OR REPLACE: insert and update alike). */
function refreshOn(name: string, event: string, which: string): string {
  return `CREATE TRIGGER ${name} ${event} BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE ${which};
    END;`;
}

export function updateToVersion20(db: Database): void {
  db.exec(`
    CREATE VIRTUAL TABLE search_index USING fts5 (
      prompt, tags, boards,
      content = '', contentless_delete = 1,
      tokenize = 'unicode61 remove_diacritics 2',
      prefix = '2 3'
    );

    CREATE VIEW search_source AS
      SELECT g.id AS id, p.text AS prompt,
        coalesce((SELECT group_concat(t.name, ' ') FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id
                  WHERE gt.generation_id = g.id), '') AS tags,
        coalesce((SELECT group_concat(b.name, ' ') FROM board_items bi JOIN boards b ON b.id = bi.board_id
                  WHERE bi.generation_id = g.id), '') AS boards
      FROM generations g JOIN prompts p ON p.id = g.prompt_id;

    INSERT INTO search_index (rowid, prompt, tags, boards) SELECT id, prompt, tags, boards FROM search_source;

    CREATE TRIGGER search_generation_delete AFTER DELETE ON generations BEGIN
      DELETE FROM search_index WHERE rowid = OLD.id;
    END;
    ${refreshOn('search_generation_insert', 'AFTER INSERT ON generations', 'id = NEW.id')}
    ${refreshOn('search_generation_prompt', 'AFTER UPDATE OF prompt_id ON generations', 'id = NEW.id')}
    ${refreshOn('search_tag_link', 'AFTER INSERT ON generation_tags', 'id = NEW.generation_id')}
    ${refreshOn('search_tag_unlink', 'AFTER DELETE ON generation_tags', 'id = OLD.generation_id')}
    ${refreshOn(
      'search_tag_rename',
      'AFTER UPDATE OF name ON tags',
      'id IN (SELECT generation_id FROM generation_tags WHERE tag_id = NEW.id)',
    )}
    ${refreshOn('search_board_link', 'AFTER INSERT ON board_items', 'id = NEW.generation_id')}
    ${refreshOn('search_board_unlink', 'AFTER DELETE ON board_items', 'id = OLD.generation_id')}
    ${refreshOn(
      'search_board_rename',
      'AFTER UPDATE OF name ON boards',
      'id IN (SELECT generation_id FROM board_items WHERE board_id = NEW.id)',
    )}
  `);
}
