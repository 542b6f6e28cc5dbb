// The stratified Monte Carlo estimate behind the score error (docs/math.md section 11): draw n belongs to
// stratum n mod K*, each stratum keeps a Welford mean and sum of squared deviations in float64, and the
// estimate is the mean of the strata's means. The CPU reference and the GPU engine both feed it, in draw order.

/** A Monte Carlo estimate and its standard error. */
export interface Estimate {
  readonly value: number;
  readonly standardError: number;
}

export class StratifiedMean {
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(private readonly strata: number) {
    this.count = new Float64Array(strata);
    this.mean = new Float64Array(strata);
    this.m2 = new Float64Array(strata);
  }

  /** Adds the value of draw n (stratum n mod K*). */
  add(n: number, value: number): void {
    const s = n % this.strata;
    const cnt = this.count[s]! + 1;
    this.count[s] = cnt;
    const delta = value - this.mean[s]!;
    this.mean[s] = this.mean[s]! + delta / cnt;
    this.m2[s] = this.m2[s]! + delta * (value - this.mean[s]!);
  }

  /** The mean of the strata's means; needs two draws in every stratum for the standard error. */
  estimate(): Estimate {
    const K = this.strata;
    let value = 0;
    let variance = 0;
    for (let s = 0; s < K; s++) {
      value += this.mean[s]! / K;
      variance += this.m2[s]! / (this.count[s]! - 1) / this.count[s]! / (K * K);
    }
    return { value, standardError: Math.sqrt(variance) };
  }
}
