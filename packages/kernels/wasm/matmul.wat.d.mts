export function matmulWat(options: { relaxed: boolean }): string;
