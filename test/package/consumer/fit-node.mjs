// A user's Node script: the estimator from the installed package with backend 'auto' (the GPU engine,
// registered by importing ddpm-gmm/node), a model file round trip, and the .npy codec; then the piecewise model
// on the same data, its file read back by loadModel, and samples from both.
import { DdpmGmm, PiecewiseScoreModel, centreError, generateMixture, loadModel, parseNpy, serializeNpy } from 'ddpm-gmm';
import 'ddpm-gmm/node';

const mixture = generateMixture({ k: 3, d: 4, n: 3000, separation: 8, seed: 5 });
const data = parseNpy(serializeNpy(mixture.data, 'float32'), 'X.npy');
const gmm = new DdpmGmm({ nComponents: 3, backend: 'auto' });
const pw = new PiecewiseScoreModel({ cells: 6, levels: 6, backend: 'auto' });
let pwLoaded;
try {
  await pw.fit(data);
  pwLoaded = loadModel(JSON.stringify(pw));
  const [a, b] = [await pw.sample(200, { seed: 1 }), await pwLoaded.sample(200, { seed: 1 })];
  const piecewise = { backendUsed: pw.backendUsed, rows: a.rows, reloadedSamplesTheSame: a.data.every((v, i) => v === b.data[i]) };
  await gmm.fit(data);
  const reloaded = DdpmGmm.fromJSON(JSON.parse(JSON.stringify(gmm.toJSON())));
  const same = reloaded.predict(data).every((label, i) => label === gmm.predict(data)[i]);
  const error = centreError(gmm.means, mixture.truth);
  console.log(JSON.stringify({ backendUsed: gmm.backendUsed, maxError: error.max, nIter: gmm.nIter, reloadedPredictsTheSame: same, piecewise }));
} finally {
  gmm.dispose();
  pw.dispose();
  pwLoaded?.dispose();
}
