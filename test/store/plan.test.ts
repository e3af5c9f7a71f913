// The queries a user waits on walk an index in their sort order and stop at the page size: no full scan to sort,
// no temporary B-tree. Checked with EXPLAIN QUERY PLAN on a seeded file, before and after ANALYZE.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedGenerations } from '../../electron/store/seed';
import { DB_FILE, openDatabase, type Db } from '../../electron/store/db';
import { pageSql, type PageQuery } from '../../electron/store/gallery';
import { tempHome } from './helpers';

function plan(db: Db, query: PageQuery): ReadonlyArray<string> {
  const { sql, params } = pageSql(query);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
}

const nextCursor = (db: Db, query: PageQuery): string => {
  const { sql, params } = pageSql(query);
  const rows = db.prepare(sql).all(...params) as Array<{ id: number; rating: number }>;
  const last = rows.at(-2)!;
  return Buffer.from(JSON.stringify([query.sort ?? 'newest', last.id, last.rating])).toString('base64url');
};

describe.each([false, true])('query plans (ANALYZE: %s)', (analyze) => {
  const { home, cleanup } = tempHome('vgt-plan-');
  let db: Db;
  beforeAll(() => {
    db = openDatabase(path.join(home, DB_FILE));
    seedGenerations(db, 3000);
    if (analyze) db.exec('ANALYZE');
  });
  afterAll(() => {
    db.close();
    cleanup();
  });

  it('first gallery page: generations in id order, joined by primary key, no sort', () => {
    const steps = plan(db, { limit: 60 });
    expect(steps.join(' | ')).toMatch(/(SCAN g|SEARCH g USING (COVERING )?INDEX generations_by_status)/);
    expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/);
    expect(steps.filter((s) => /^SEARCH (p|i) USING INTEGER PRIMARY KEY/.test(s))).toHaveLength(2);
    const later = plan(db, { limit: 60, cursor: nextCursor(db, { limit: 60 }) });
    expect(later.join(' | ')).not.toMatch(/TEMP B-TREE/);
  });

  it('search by word: the FTS index in rowid order, no sort', () => {
    for (const query of [{ text: 'purple' }, { text: 'purple', cursor: nextCursor(db, { text: 'purple' }) }]) {
      const steps = plan(db, query);
      expect(steps[0]).toMatch(/^SCAN s VIRTUAL TABLE INDEX/);
      expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/);
      expect(steps).toContain('SEARCH g USING INTEGER PRIMARY KEY (rowid=?)');
    }
  });

  it('favorites and sort by rating use their indexes', () => {
    expect(plan(db, { filters: { favorite: true } }).join(' | ')).toMatch(
      /INDEX generations_by_favorite \(status=\? AND favorite=\?\)/,
    );
    const rating = plan(db, { sort: 'rating', cursor: nextCursor(db, { sort: 'rating' }) }).join(' | ');
    expect(rating).toMatch(/INDEX generations_by_rating/);
    expect(rating).not.toMatch(/TEMP B-TREE/);
  });

  it('search sorted by rating walks the rating index, not a sort of every match', () => {
    const steps = plan(db, { text: 'purple', sort: 'rating' }).join(' | ');
    expect(steps).toMatch(/^SEARCH g USING INDEX generations_by_rating/);
    expect(steps).not.toMatch(/TEMP B-TREE/);
  });

  it('tag filter and board filter look up their link tables by index', () => {
    const tagged = plan(db, { filters: { tags: ['keeper'] } }).join(' | ');
    expect(tagged).toMatch(/generation_tags_by_tag|USING PRIMARY KEY|COVERING INDEX/);
    expect(tagged).not.toMatch(/SCAN gt/);
  });
});
