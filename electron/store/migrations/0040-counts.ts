// 40: generations per status, kept by triggers, so the gallery's total is exact and O(1) when it filters by
// status alone (the usual case); counting 100k index entries per page was the slowest part of a first page.
import type { Database } from 'better-sqlite3';

export function updateToVersion40(db: Database): void {
  db.exec(`
    CREATE TABLE status_counts (
      status TEXT PRIMARY KEY,
      count INTEGER NOT NULL CHECK (count >= 0)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO status_counts (status, count) SELECT status, count(*) FROM generations GROUP BY status;

    CREATE TRIGGER counts_insert AFTER INSERT ON generations BEGIN
      INSERT INTO status_counts (status, count) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET count = count + 1;
    END;
    CREATE TRIGGER counts_delete AFTER DELETE ON generations BEGIN
      UPDATE status_counts SET count = count - 1 WHERE status = OLD.status;
    END;
    CREATE TRIGGER counts_status AFTER UPDATE OF status ON generations WHEN OLD.status <> NEW.status BEGIN
      UPDATE status_counts SET count = count - 1 WHERE status = OLD.status;
      INSERT INTO status_counts (status, count) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET count = count + 1;
    END;
  `);
}
