export function compileWat(source: string, name?: string): Promise<Uint8Array>;
