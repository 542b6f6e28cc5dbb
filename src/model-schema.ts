// The model file's fields, declared once per kind (src/io/schema.ts): readModelFile checks a file against these and
// the writers (createModelFile, createPiecewiseModelFile) check what they built against the same declarations.
import { SCHEDULES } from './algorithms/schedules.ts';
import { array, bool, int, literal, matrix, nullable, num, object, oneOf, optional, since, str, vector, type ObjectSpec, type Rule } from './io/schema.ts';
import { METHODS } from './methods.ts';
import { SCALES } from './scaling.ts';
import { COVARIANCES, varianceColumns, VARIANCE_FLOOR, WEIGHT_FLOOR, WEIGHTINGS, type Covariance } from './training/student.ts';

export const MODEL_FORMAT = 'ddpm-gmm-model';

const backendUsed = nullable(object({ kind: oneOf(['gpu', 'cpu'], '"gpu" or "cpu"'), adapter: str(), software: bool() }));

/** The general student's four fields come together: a file with some of them was cut or hand-edited. */
const generalTogether: Rule = (o) => {
  const keys = ['covariance', 'weights', 'variances', 'mixingWeights'];
  const present = keys.filter((k) => o[k] !== undefined);
  return present.length === 0 || present.length === keys.length ? undefined : `${keys.filter((k) => o[k] === undefined).join(' and ')} must be given with ${present.join(' and ')} (the general student has all four)`;
};

/**
 * The weights sum to 1: the writer's softmax rounds far below WEIGHT_FLOOR, and a sum off by less than the floor moves
 * no weight by more than the smallest one a fit keeps (the reader's softmax of log pi renormalises the rest).
 */
const weightsSumToOne: Rule = (o) => {
  const pi = o['mixingWeights'];
  if (!Array.isArray(pi)) return undefined;
  const sum = (pi as number[]).reduce((a, b) => a + b, 0);
  return Math.abs(sum - 1) <= WEIGHT_FLOOR ? undefined : `mixingWeights must sum to 1 (within ${WEIGHT_FLOOR}), got ${sum}`;
};

const ddpmHasSchedule: Rule = (o) => (o['method'] === 'ddpm' && o['schedule'] === null ? "schedule is null, but method 'ddpm' always has one" : undefined);

const varianceCols = { describe: 'the covariance\'s (0, 1 or dimension)', of: (r: Record<string, unknown>) => varianceColumns(r['covariance'] as Covariance, r['dimension'] as number) };

/**
 * The student's file: version 1 is the paper's student on the data as given; version 3 (MODEL_VERSION) adds the
 * general student's fields and the scaling (docs/math.md sections 14 and 15), each optional.
 */
export const STUDENT_FILE: ObjectSpec = object(
  {
    format: literal(MODEL_FORMAT),
    version: oneOf([1, 2, 3]),
    model: since(2, literal('student')),
    covariance: optional(oneOf(COVARIANCES), 3),
    weights: optional(oneOf(WEIGHTINGS), 3),
    createdBy: str(),
    nComponents: int(1),
    dimension: int(1),
    means: matrix('nComponents', 'dimension'),
    variances: optional(matrix('nComponents', varianceCols, { min: VARIANCE_FLOOR }), 3),
    mixingWeights: optional(vector('nComponents', { above: 0 }), 3),
    method: oneOf(METHODS),
    schedule: nullable(oneOf(SCHEDULES)),
    converged: bool(),
    nIter: int(0),
    backendUsed,
    scaling: optional(object({ method: oneOf(SCALES.filter((m) => m !== 'none')), centre: vector('dimension'), scale: vector('dimension', { above: 0 }) }), 3),
  },
  { rules: [generalTogether, weightsSumToOne, ddpmHasSchedule] },
);

const pieceCols = { describe: 'dimension', of: (r: Record<string, unknown>) => r['dimension'] as number };

/** A level of the piecewise score (src/piecewise/model.ts); further fields a later model adds are kept as written. */
const level = object({ t: num({ above: 0 }), cells: matrix(undefined, pieceCols), coef: matrix(undefined, pieceCols), tau: optional(num({ above: 0 })) }, { open: true, describe: 'an object { t, cells, coef }' });

/** The piecewise model's file (version 2): the model's own fields under `score`, matrices as arrays of rows. */
export const PIECEWISE_FILE: ObjectSpec = object({
  format: literal(MODEL_FORMAT),
  version: oneOf([2, 3]),
  model: literal('piecewise'),
  createdBy: str(),
  dimension: int(1),
  score: object(
    {
      kind: literal('piecewise'),
      d: int(1, { equals: 'dimension' }),
      degree: oneOf([1, 2], '1 (affine) or 2 (affine plus diagonal quadratic terms)'),
      levels: array(level, { min: 1, of: 'levels', name: (i) => `level ${i + 1} (1-based)` }),
      interpolation: oneOf(['nearest', 'linear']),
    },
    { open: true, describe: "an object (the model's levels)" },
  ),
  backendUsed,
});
