// The app's name and version, read once from package.json so the CLI, doctor and the window title agree.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { productName: string; version: string };

export const APP_NAME = pkg.productName;
export const APP_VERSION = pkg.version;
