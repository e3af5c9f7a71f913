// 20: full-text search (FTS5) over each generation's prompt, tag names and board names, kept in step by triggers.
// Contentless (the text lives in its own tables); contentless_delete lets triggers replace and delete rows.
// The FTS rowid is the generation id, so "newest matches first" walks the index backwards and stops at the page size.
import type { Database } from 'better-sqlite3';

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

    CREATE TRIGGER search_generation_insert AFTER INSERT ON generations BEGIN
      INSERT INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = NEW.id;
    END;
    CREATE TRIGGER search_generation_delete AFTER DELETE ON generations BEGIN
      DELETE FROM search_index WHERE rowid = OLD.id;
    END;
    CREATE TRIGGER search_generation_prompt AFTER UPDATE OF prompt_id ON generations BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = NEW.id;
    END;
    CREATE TRIGGER search_tag_link AFTER INSERT ON generation_tags BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = NEW.generation_id;
    END;
    CREATE TRIGGER search_tag_unlink AFTER DELETE ON generation_tags BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = OLD.generation_id;
    END;
    CREATE TRIGGER search_tag_rename AFTER UPDATE OF name ON tags BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source
        WHERE id IN (SELECT generation_id FROM generation_tags WHERE tag_id = NEW.id);
    END;
    CREATE TRIGGER search_board_link AFTER INSERT ON board_items BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = NEW.generation_id;
    END;
    CREATE TRIGGER search_board_unlink AFTER DELETE ON board_items BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source WHERE id = OLD.generation_id;
    END;
    CREATE TRIGGER search_board_rename AFTER UPDATE OF name ON boards BEGIN
      INSERT OR REPLACE INTO search_index (rowid, prompt, tags, boards)
        SELECT id, prompt, tags, boards FROM search_source
        WHERE id IN (SELECT generation_id FROM board_items WHERE board_id = NEW.id);
    END;
  `);
}
