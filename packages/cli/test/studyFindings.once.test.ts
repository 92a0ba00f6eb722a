import { describe, expect, it } from 'vitest';
import { meanStd, studyMetrics, type StudyRow } from '../src/study/aggregateRuns';
import { studyFindings } from '../src/study/studyFindings';

const metrics = studyMetrics(['0.1', '0.2', '0.3', '0.4']);

/** A row whose every metric has the seed values `byKey[key]` (default 0.5, 0.5). */
function row(name: StudyRow['name'], byKey: Record<string, number[]>): StudyRow {
  return {
    name,
    seeds: [0, 1],
    stats: Object.fromEntries(metrics.map((m) => [m.key, meanStd(byKey[m.key] ?? [0.5, 0.5])])),
    intra: [],
    inter: [],
    trainSeconds: 0,
    evalSeconds: 0,
    evaluated: 'EMA teacher backbone',
  };
}

describe('studyFindings', () => {
  it('meanStd is the mean and the n − 1 standard deviation, NaN for one value', () => {
    expect(meanStd([1, 3])).toEqual({ mean: 2, std: Math.SQRT2, n: 2 });
    const one = meanStd([0.25]);
    expect(one.mean).toBe(0.25);
    expect(one.std).toBeNaN();
  });

  it('says whether MMC leads and whether the margin exceeds the seed spread', () => {
    const rows = [
      row('random-init', { overlap: [0.9, 0.9], 'mIoU best': [0.3, 0.3] }),
      row('mmc', { overlap: [0.5, 0.52], 'mIoU best': [0.40, 0.42] }), // lowest overlap, far from DINO; mIoU close to DINO's
      row('dino', { overlap: [0.7, 0.72], 'mIoU best': [0.41, 0.43] }),
    ];
    const text = studyFindings(rows, metrics, 0.25).join('\n');
    expect(text).toContain('k-NN top-1 of every row and head lies in 50.0–50.0 %; always answering the most frequent class of the queries scores 25.0 %.');
    expect(text).toContain('Intra/inter overlap (lower is better): MMC 0.510 ± 0.014, DINO 0.710 ± 0.014 (best first).');
    expect(text).toMatch(/MMC leads DINO by 0\.200, more than the seed spread \(0\.028\): the paper's claim \(Table 5: MMC has the lowest overlap\) holds here\./);
    expect(text).toMatch(/MMC ranks 2 of 2, behind DINO by 1\.0 points, within the seed spread \(2\.8 points\): the paper's claim \(Table 1: MMC has the highest zero-shot mIoU\) does not hold in the means/);
    expect(text).toContain('Best mIoU against the network at initialisation (30.0 ± 0.0): better — MMC, DINO; worse — none;');
    // Paper Table 5: MMC 0.55 < DINO 0.66, as here; Table 1 Opt.: MMC 38.4 > DINO 35.1, unlike here.
    expect(text).toContain("1 of 1 pairs of MMC, DINO are ordered by our overlap as by Table 5's O");
    expect(text).toContain("0 of 1 pairs of MMC, DINO are ordered by our mIoU best as by Table 1's Opt.");
  });

  it('with one seed it compares single runs and says there is no spread', () => {
    const one = (name: StudyRow['name'], overlap: number) => ({ ...row(name, {}), seeds: [0], stats: { ...row(name, {}).stats, overlap: meanStd([overlap]) } });
    const text = studyFindings([one('mmc', 0.6), one('sit', 0.5)], metrics).join('\n');
    expect(text).toContain('One seed per row');
    expect(text).toMatch(/MMC ranks 2 of 2, behind SiT by 0\.100 \(one seed: no spread to compare with\): the paper's claim \(Table 5: MMC has the lowest overlap\) does not hold here\./);
  });
});
