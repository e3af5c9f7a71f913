// Types of scripts/make-icons.mjs for the packaging test.
export function iconSvg(): string;
export function ico(images: ReadonlyArray<{ px: number; data: Buffer }>): Buffer;
export const ICNS_TYPES: ReadonlyArray<[type: string, px: number]>;
export function icns(byPx: ReadonlyMap<number, Buffer>): Buffer;
export function makeIcons(outDir: string): Promise<void>;
