// The estimator's methods (docs/math.md sections 8 and 9), named once for the estimator, its model file and the CLI.
export type Method = 'ddpm' | 'em' | 'gradient-em' | 'power';
export const METHODS: readonly Method[] = ['ddpm', 'em', 'gradient-em', 'power'];
