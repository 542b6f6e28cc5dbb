"""scikit-learn's GaussianMixture(covariance_type='spherical', init_params='k-means++') on .npy files, the yardstick of bench/fit-time.ts
and research/default-fit.ts. Usage: sklearn_gmm.py K N_INIT SEED FILE.npy [FILE.npy ...]; prints one JSON
line per file: the means, the fit's wall seconds (fit only, after the import) and n_iter_."""
import json
import sys
import time

import numpy as np
from sklearn.mixture import GaussianMixture


def main() -> None:
    k, n_init, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    for path in sys.argv[4:]:
        x = np.load(path)
        start = time.perf_counter()
        gm = GaussianMixture(
            n_components=k, covariance_type="spherical", init_params="k-means++", n_init=n_init, random_state=seed
        ).fit(x)
        seconds = time.perf_counter() - start
        print(json.dumps({"means": gm.means_.tolist(), "seconds": seconds, "nIter": int(gm.n_iter_)}), flush=True)


if __name__ == "__main__":
    main()
