import type { StudyRowName } from './runRecord.js';

/** A table of the MMC paper: its rows by method name as printed, `null` where the paper has no value. */
export interface PaperTable {
  /** 'Table 1', 'Table 5'. */
  name: string;
  caption: string;
  /** Decimals the paper prints its values with. */
  decimals: number;
  columns: string[];
  rows: { method: string; ours?: StudyRowName; values: (number | null)[] }[];
}

/**
 * Table 1 of the MMC paper (../shared/paper/mmc.md): zero-shot prompt segmentation on COCO, ViT-B,
 * mIoU in % per threshold, the best threshold ("Opt.") and a linear head ("Lin.").
 */
export const PAPER_TABLE_1: PaperTable = {
  name: 'Table 1',
  decimals: 1,
  caption: 'MMC paper, Table 1: zero-shot segmentation on COCO from one prompt patch, ViT-B/16 pretrained on ImageNet-1k, mIoU (%)',
  columns: ['0.1', '0.2', '0.3', '0.4', 'Opt.', 'Lin.'],
  rows: [
    { method: 'RAND', ours: 'random-init', values: [16.8, 16.6, 16.2, 15.5, 16.8, null] },
    { method: 'SiT', ours: 'sit', values: [32.9, 35.3, 34.7, 31.6, 35.3, 34.7] },
    { method: 'DINO', ours: 'dino', values: [33.3, 35.1, 33.0, 28.2, 35.1, 42.7] },
    { method: 'iBOT', ours: 'ibot', values: [33.5, 36.2, 36.2, 34.1, 36.2, 45.3] },
    { method: 'MC-SSL', values: [31.9, 34.2, 35.0, 35.1, 35.1, 39.7] },
    { method: 'MAE', ours: 'mae', values: [28.6, 30.1, 26.0, 18.5, 30.1, 24.6] },
    { method: 'MSN', ours: 'msn', values: [32.7, 34.4, 31.6, 25.9, 34.4, 42.2] },
    { method: 'MMC (ours)', ours: 'mmc', values: [34.6, 37.6, 38.4, 37.9, 38.4, 46.4] },
  ],
};

/**
 * Table 5 of the MMC paper: statistics of the intra- and inter-object patch similarity
 * distributions, their overlap area O (lower = better separated) and the two means.
 */
export const PAPER_TABLE_5: PaperTable = {
  name: 'Table 5',
  decimals: 2,
  caption: 'MMC paper, Table 5: intra/inter-object patch similarity, overlap area O and means (ViT-B/16, ImageNet-1k)',
  columns: ['O', 'Intra', 'Inter'],
  rows: [
    { method: 'DINO', ours: 'dino', values: [0.66, 0.2, 0.12] },
    { method: 'iBOT', ours: 'ibot', values: [0.56, 0.19, 0.05] },
    { method: 'SiT', ours: 'sit', values: [0.63, 0.5, 0.46] },
    { method: 'MAE', ours: 'mae', values: [0.76, 0.29, 0.17] },
    { method: 'MC-SSL', values: [0.58, 0.47, 0.35] },
    { method: 'MMC', ours: 'mmc', values: [0.55, 0.48, 0.38] },
  ],
};

/** The paper's value in `column` of `table` for our row `name`, if it has one. */
export function paperValue(table: PaperTable, name: StudyRowName, column: string): number | undefined {
  const row = table.rows.find((r) => r.ours === name);
  const v = row?.values[table.columns.indexOf(column)];
  return v ?? undefined;
}
