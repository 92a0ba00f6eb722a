export function dotTopKWat(options: { relaxed: boolean }): string;
