// The engine's one door to onnxruntime (lint lets no other module import it): sessions, tensors, and what this build
// of onnxruntime-node carries. A runtime upgrade or swap touches this file and no other.
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';

export type Session = ort.InferenceSession;
export type Tensor = ort.Tensor;
export type SessionOutputs = ort.InferenceSession.ReturnType;
export type RuntimeSessionOptions = ort.InferenceSession.SessionOptions;

/** A session of an ONNX file (a path) or of a model in memory. */
export function createSession(model: string | Uint8Array, options: RuntimeSessionOptions): Promise<Session> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

export function float32Tensor(data: Float32Array, dims: ReadonlyArray<number>): Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function int64Tensor(data: BigInt64Array, dims: ReadonlyArray<number>): Tensor {
  return new ort.Tensor('int64', data, dims);
}

/** The execution providers this build lists, each with whether it is bundled. */
export function listedBackends(): Map<string, boolean> {
  return new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
}

export function runtimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** The folder of this platform's native libraries (where the opt-in CUDA add-on is installed). */
export function nativeFolder(): string {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
}
