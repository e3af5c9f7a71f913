// The preload exposes exactly two functions: call a contract method, and listen to studio events.
// No raw ipcRenderer reaches the page; main validates every payload anyway.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CallResult, PreloadBridge } from '../common/contract';

const bridge: PreloadBridge = {
  call: (name: string, payload: unknown) =>
    ipcRenderer.invoke('vgt:call', String(name), payload) as Promise<CallResult<unknown>>,
  subscribe: (listener: (event: unknown) => void) => {
    const wrapped = (_event: IpcRendererEvent, data: unknown) => listener(data);
    ipcRenderer.on('vgt:event', wrapped);
    return () => {
      ipcRenderer.removeListener('vgt:event', wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('vgt', bridge);
