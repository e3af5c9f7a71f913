// Image bytes in the browser: files to base64 for the API, pixel arrays to PNG, and PNG detection for drops.

/** The file's bytes as base64 (without a data: prefix). */
export function fileToBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read.'));
    reader.readAsDataURL(file);
  });
}

/** RGBA pixels as a PNG, base64 (without a data: prefix). */
export function pixelsToPngBase64(pixels: Uint8ClampedArray, width: number, height: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas.');
  context.putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0);
  return canvas.toDataURL('image/png').replace(/^data:[^,]*,/, '');
}

export const IMAGE_TYPES = 'image/png,image/jpeg,image/webp';

/** The first dropped or chosen image file, or null with nothing usable. */
export function firstImage(files: FileList | null | undefined): File | null {
  for (const file of files ?? []) if (IMAGE_TYPES.split(',').includes(file.type)) return file;
  return null;
}
