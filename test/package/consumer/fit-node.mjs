// A user's Node script: the runtime-neutral core and the Node GPU backend, from the installed package.
import { DdpmGmm, centreError, generateMixture, parseNpy, serializeNpy } from 'ddpm-gmm';
import { createGpuBackend } from 'ddpm-gmm/node';

const mixture = generateMixture({ k: 3, d: 4, n: 3000, separation: 8, seed: 5 });
const data = parseNpy(serializeNpy(mixture.data, 'float32'), 'X.npy');
const backend = await createGpuBackend();
try {
  const gmm = new DdpmGmm({ nComponents: 3, backend });
  await gmm.fit(data);
  const error = centreError(gmm.means, mixture.truth);
  console.log(JSON.stringify({ backend: backend.name, adapter: backend.adapter, maxError: error.max, nIter: gmm.nIter }));
} finally {
  backend.dispose();
}
