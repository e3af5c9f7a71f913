// URLs of library files (paths relative to the data folder): the vgt-file: protocol in the app, /files/ in web mode.
export function fileUrl(relativePath: string): string {
  const encoded = relativePath.split(/[\\/]/).map(encodeURIComponent).join('/');
  const inApp = typeof window !== 'undefined' && 'vgt' in window && window.vgt !== undefined;
  return inApp ? `vgt-file://${encoded}` : `./files/${encoded}`;
}
