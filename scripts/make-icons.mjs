#!/usr/bin/env node
// Draws the app icon and writes build/icon.svg (the vector master), build/icon.png (512 px), build/icon.ico
// (Windows: 16–256 px) and build/icon.icns (macOS: 16–1024 px). The picture is VGT's own idea: a grid of image
// tokens on a dark tile, some committed (full colour), some still to come (faint), in a seeded random order.
// Usage: node scripts/make-icons.mjs [OUT_DIR]   (default: build/)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const PALETTE = ['#dc322f', '#3caa46', '#266edc', '#f0c828', '#8c46b4', '#f58228'];
const GRID = 4;

/** A small LCG so the drawing is the same on every run and machine. */
function random(seed) {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

export function iconSvg() {
  const size = 1024;
  const margin = 176;
  const gap = 40;
  const cell = (size - 2 * margin - (GRID - 1) * gap) / GRID;
  const next = random(20_260_101);
  const tiles = [];
  for (let row = 0; row < GRID; row++) {
    for (let col = 0; col < GRID; col++) {
      const colour = PALETTE[Math.floor(next() * PALETTE.length)];
      // About two thirds of the tokens are committed; the rest are pending.
      const opacity = next() < 0.66 ? 1 : 0.28;
      const x = margin + col * (cell + gap);
      const y = margin + row * (cell + gap);
      tiles.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" rx="${cell * 0.18}" fill="${colour}" opacity="${opacity}"/>`,
      );
    }
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">`,
    `<rect x="32" y="32" width="${size - 64}" height="${size - 64}" rx="200" fill="#1f2430"/>`,
    `<rect x="32" y="32" width="${size - 64}" height="${size - 64}" rx="200" fill="none" stroke="#39404f" stroke-width="12"/>`,
    ...tiles,
    '</svg>',
    '',
  ].join('\n');
}

async function png(svg, px) {
  return sharp(Buffer.from(svg), { density: 72 * (px / 1024) * 4 })
    .resize(px, px)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** ICO with PNG-compressed images (Windows Vista and later read them at every size). */
export function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ px, data }, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(px >= 256 ? 0 : px, entry);
    header.writeUInt8(px >= 256 ? 0 : px, entry + 1);
    header.writeUInt16LE(1, entry + 4);
    header.writeUInt16LE(32, entry + 6);
    header.writeUInt32LE(data.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.data)]);
}

/** ICNS with PNG chunks; the OSType says the size (and @2x variants reuse the larger pictures). */
export const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];

export function icns(byPx) {
  const chunks = ICNS_TYPES.map(([type, px]) => {
    const data = byPx.get(px);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const body = Buffer.concat(chunks);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

export async function makeIcons(outDir) {
  const svg = iconSvg();
  const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
  const byPx = new Map();
  for (const px of sizes) byPx.set(px, await png(svg, px));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'icon.svg'), svg);
  writeFileSync(path.join(outDir, 'icon.png'), byPx.get(512));
  writeFileSync(
    path.join(outDir, 'icon.ico'),
    ico([16, 24, 32, 48, 64, 128, 256].map((px) => ({ px, data: byPx.get(px) }))),
  );
  writeFileSync(path.join(outDir, 'icon.icns'), icns(byPx));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(root, 'build'));
  await makeIcons(out);
  console.log(`Icons written to ${out}: icon.svg, icon.png (512 px), icon.ico, icon.icns`);
}
