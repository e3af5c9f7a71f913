import { describe, expect, it } from 'vitest';
import { MaskEditorState } from '../../renderer/src/lib/state/mask-editor.svelte';

const at = (col: number, row: number, n = 8) => ({ x: (col + 0.5) / n, y: (row + 0.5) / n });
const grid = (m: MaskEditorState) =>
  Array.from({ length: m.rows }, (_, r) => Array.from(m.cells.slice(r * m.cols, (r + 1) * m.cols)).join(''));

describe('mask editor', () => {
  it('paints with a round brush snapped to tokens and leaves no gaps on a fast stroke', () => {
    const m = new MaskEditorState(8, 8);
    m.brushSize = 1;
    m.begin(at(0, 0));
    m.move(at(7, 0));
    m.end();
    expect(grid(m)[0]).toBe('11111111');
    expect(m.masked).toBe(8);
    m.clear();
    m.brushSize = 3;
    m.begin(at(4, 4));
    m.end();
    expect(m.masked).toBe(9);
    m.clear();
    m.brushSize = 4;
    m.begin(at(4, 4));
    m.end();
    // Diameter 4: a 4×4 block without its corners.
    expect(m.masked).toBe(12);
    expect(grid(m).slice(2, 6)).toEqual(['00011000', '00111100', '00111100', '00011000']);
  });

  it('fills a dragged rectangle in either direction, clamped to the grid', () => {
    const m = new MaskEditorState(8, 8);
    m.tool = 'rectangle';
    m.begin(at(5, 6));
    m.move(at(2, 3));
    expect(m.pending).toEqual({ row0: 3, col0: 2, row1: 6, col1: 5 });
    expect(m.masked).toBe(0);
    m.move({ x: -3, y: 9 });
    m.end();
    expect(m.pending).toBeNull();
    expect(m.masked).toBe(6 * 2);
    expect(grid(m)[7]).toBe('11111100');
  });

  it('erases, inverts and clears, each one undo step, and redoes', () => {
    const m = new MaskEditorState(4, 4);
    m.setRect({ row0: 0, col0: 0, row1: 3, col1: 1 });
    expect(m.masked).toBe(8);
    m.tool = 'eraser';
    m.brushSize = 1;
    m.begin(at(0, 0, 4));
    m.move(at(0, 3, 4));
    m.end();
    expect(m.masked).toBe(4);
    m.invert();
    expect(grid(m)).toEqual(['1011', '1011', '1011', '1011']);
    m.clear();
    expect(m.masked).toBe(0);
    m.undo();
    expect(m.masked).toBe(12);
    m.undo();
    m.undo();
    expect(m.masked).toBe(8);
    m.redo();
    expect(m.masked).toBe(4);
    expect(m.canRedo).toBe(true);
    m.setRect({ row0: 0, col0: 3, row1: 0, col1: 3 });
    // A new edit drops the redo branch.
    expect(m.canRedo).toBe(false);
  });

  it('adds no undo step for a stroke that changed nothing, and cancel restores', () => {
    const m = new MaskEditorState(4, 4);
    m.tool = 'eraser';
    m.begin(at(1, 1, 4));
    m.end();
    expect(m.canUndo).toBe(false);
    m.tool = 'brush';
    m.begin(at(1, 1, 4));
    m.cancel();
    expect(m.masked).toBe(0);
    expect(m.canUndo).toBe(false);
  });

  it('exports white where tokens are regenerated, at image resolution', () => {
    const m = new MaskEditorState(2, 2);
    m.setRect({ row0: 0, col0: 1, row1: 0, col1: 1 });
    const px = m.toPixels(4, 4);
    const value = (x: number, y: number) => px[(y * 4 + x) * 4]!;
    expect([value(0, 0), value(1, 1), value(2, 0), value(3, 1), value(3, 2)]).toEqual([0, 0, 255, 255, 0]);
    expect(px[3]).toBe(255);
  });
});
