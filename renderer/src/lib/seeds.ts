// Seeds the user has not chosen: uniformly random, within what JSON and the engine carry exactly (2^32 keeps them
// short enough to read and type back).
export function randomSeed(): number {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return buffer[0] ?? 0;
}
