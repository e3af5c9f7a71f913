// The one Content-Security-Policy of the studio page: the app:// protocol and web mode send it as a header,
// renderer/index.html carries the same directives as a meta tag (test/security checks all three agree).
// The page loads only its own scripts and styles and talks only to its own origin.

/** `extraImageSources`: where library pictures come from besides the page's origin (the app's vgt-file: scheme). */
export function contentSecurityPolicy(extraImageSources: ReadonlyArray<string> = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' blob: data:", ...extraImageSources].join(' '),
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
