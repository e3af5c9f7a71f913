// Tells whether the Electron binary can run on this machine, and if not, why (one short phrase).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function electronUnavailableReason(env = process.env, platform = process.platform) {
  let binary;
  try {
    // The electron package exports the path of its binary; it throws when the download never happened.
    binary = require('electron');
  } catch (error) {
    // `npm ci` skips the binary download on purpose (.npmrc): say how to get it, not electron's generic advice.
    return /failed to install correctly/.test(String(error.message))
      ? 'its binary was not downloaded; VGT_ELECTRON_DOWNLOAD=1 npm ci fetches it where there is internet'
      : `it cannot be loaded: ${String(error.message).split('\n')[0]}`;
  }
  if (typeof binary !== 'string' || !existsSync(binary)) return 'its binary is not installed';
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return 'no display: neither DISPLAY nor WAYLAND_DISPLAY is set';
  return null;
}
