// Input checks (src/validate.ts): each rejects with a one-line InputError that names the problem and the fix.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { matrix } from '../../src/types.ts';
import {
  requireCentreCount,
  requireEnoughSamples,
  requireFinite,
  requireLearningRate,
  requireNoiseScale,
  requireNoiseShape,
  requireSameDimension,
  requireSeed,
  requireSteps,
  requireTiedK,
  tiedCentres,
  untiedCentres,
} from '../../src/validate.ts';

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

describe('validate', () => {
  it('names the first non-finite entry by 1-based row and column', () => {
    const m = matrix(3, 2, Float64Array.from([0, 1, 2, Infinity, NaN, 5]));
    const msg = messageOf(() => requireFinite(m, 'data'));
    expect(msg).toMatch(/row 2, column 2 \(1-based/);
    expect(msg).toMatch(/Infinity/);
    expect(() => requireFinite(matrix(1, 2, Float64Array.from([1, -2])), 'data')).not.toThrow();
  });

  it('checks N >= K, matching d and the noise shape', () => {
    expect(messageOf(() => requireEnoughSamples(3, 5))).toMatch(/^N = 3 samples but K = 5 centres: /);
    expect(() => requireEnoughSamples(5, 5)).not.toThrow();
    expect(messageOf(() => requireSameDimension(matrix(4, 3), matrix(2, 2)))).toMatch(/d = 3 .* d = 2/);
    expect(messageOf(() => requireNoiseShape(matrix(4, 2), matrix(5, 2)))).toMatch(/4 x 2 but the data is 5 x 2/);
    expect(() => requireNoiseShape(matrix(5, 2), matrix(5, 2))).not.toThrow();
  });

  it('rejects t, lr <= 0 or non-finite, non-integer steps and K, and bad seeds', () => {
    for (const t of [0, -1, NaN, Infinity]) expect(messageOf(() => requireNoiseScale(t))).toMatch(/--t.*> 0/);
    expect(() => requireNoiseScale(1e-6)).not.toThrow();
    for (const lr of [0, -0.1, NaN, Infinity]) expect(messageOf(() => requireLearningRate(lr))).toMatch(/--lr/);
    for (const s of [0, -3, 2.5, NaN]) expect(messageOf(() => requireSteps(s))).toMatch(/positive integer/);
    for (const k of [0, -1, 1.5]) expect(messageOf(() => requireCentreCount(k))).toMatch(/K.*>= 1/);
    expect(() => requireCentreCount(1)).not.toThrow();
    for (const s of [-1, 0.5, 2 ** 53, NaN]) expect(messageOf(() => requireSeed(s))).toMatch(/2\^53/);
    expect(() => requireSeed(2 ** 53 - 1)).not.toThrow();
    expect(messageOf(() => requireTiedK(3))).toMatch(/--tied needs K = 2 .* K = 3/);
  });

  it('accepts tied centres as 1 x d or as rows m, -m and rejects other shapes', () => {
    const one = matrix(1, 2, Float64Array.from([1, -2]));
    expect(tiedCentres(one, 'm')).toBe(one);
    const pair = untiedCentres(one);
    expect(Array.from(pair.data)).toEqual([1, -2, -1, 2]);
    expect(Array.from(tiedCentres(pair, 'm').data)).toEqual([1, -2]);
    expect(messageOf(() => tiedCentres(matrix(2, 2, Float64Array.from([1, 2, 1, 2])), 'm'))).toMatch(/row 2 = -row 1.*column 1/);
    expect(messageOf(() => tiedCentres(matrix(3, 2), 'm'))).toMatch(/3 rows/);
  });
});
