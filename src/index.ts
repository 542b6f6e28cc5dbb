// ddpm-gmm: the runtime-neutral entry point. The estimator, the float64 CPU backend, the algorithms, the
// types and errors, and the .npy / CSV codecs on bytes and strings. For WebGPU, import from
// 'ddpm-gmm/node' or 'ddpm-gmm/browser', which re-export all of this.
export { DdpmGmm, defaultSchedule, METHODS, mixtureSamples, type DdpmGmmOptions, type FitOutput, type Method, type RestartResult } from './estimator.ts';
export { SAMPLE_DEFAULTS, SAMPLE_METHODS, type SampleMethod, type SampleOptions } from './sample-options.ts';
export { MODEL_FORMAT, MODEL_KINDS, MODEL_VERSION, type ModelFile, type ModelKind, type PiecewiseModelFile } from './model-file.ts';
export {
  loadModel,
  PIECEWISE_DEFAULTS,
  PiecewiseScoreModel,
  type LevelInterpolation,
  type LoadOptions,
  type PiecewiseDegree,
  type PiecewiseLevel,
  type PiecewiseLevelReport,
  type PiecewiseModel,
  type PiecewiseScoreModelOptions,
} from './piecewise-estimator.ts';
export { VERSION } from './version.ts';
export { CpuBackend } from './cpu/backend.ts';
export { BACKEND_CHOICES, describeBackend, openBackend, type BackendChoice, type BackendInfo } from './backend-choice.ts';
export { DeviceError, DivergenceError, InputError } from './errors.ts';
export { matrix, toRows } from './types.ts';
export type { Backend, BackendCore, ModeWeights, PiecewiseMoments, Sampling, SamplingMetrics, Training } from './backend.ts';
export { studentScoreOf, type StudentScore } from './sampling/student-score.ts';
export type { Dataset, DataInput, Matrix } from './types.ts';
export type { BatchedRun, DdpmOptions, EmSteps, GdBatchOptions, GdOptions, GdProgress, GdResult, HistoryEntry, LossGradient, NoiseSpec } from './training/capability.ts';
export { fitEm, fitSchedule, kmeansPlusPlus, SCHEDULES, seededRows, warmStart } from './algorithms/index.ts';
export type { HistoryRow, LoopOptions, ScheduleName, ScheduleOptions } from './algorithms/index.ts';
export { generateMixture, trueCentres, type Mixture, type MixtureSpec } from './mixtures.ts';
export { centreError, minPairwiseDistance, type CentreError } from './centre-error.ts';
export { hasNpyMagic, parseNpy, serializeNpy, type FloatDtype } from './io/npy.ts';
export { formatCsv, parseCsv, parseCsvTable, type CsvDelimiter, type CsvIndexPolicy, type CsvOptions, type CsvTable } from './io/csv.ts';
export { decodeMatrix, type DecodedMatrix } from './io/matrix-bytes.ts';
export { STREAMS } from './math/streams.ts';
