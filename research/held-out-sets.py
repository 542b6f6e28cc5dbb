# Labelled sets the real-data experiment never saw, written as .npy (X float64, y float64 column) with
# scikit-learn's reference ARIs (GaussianMixture spherical and diag, one k-means init, random_state 0; KMeans
# n_init 10) on the raw data, one JSON line per set (docs/decisions/2026-12-06-default-student.md).
#
#   /usr/bin/python3 research/held-out-sets.py OUT_DIR
# wine and breast cancer are scikit-learn's bundled copies of the UCI sets; blobs5 has unequal spherical spreads
# and weights; aniso_units has per-coordinate spreads, features in units from 1e-2 to 1e6 and two shifts.
import json, sys, time
import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine, make_blobs
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.mixture import GaussianMixture

out = sys.argv[1]
sets = {'wine': load_wine(return_X_y=True), 'bcancer': load_breast_cancer(return_X_y=True)}
sets['blobs5'] = make_blobs(n_samples=[300, 600, 900, 1200], n_features=5, cluster_std=[0.4, 1.0, 1.6, 2.2], random_state=11, center_box=(-12, 12))
rng = np.random.default_rng(7)
K, d, n = 4, 7, [400, 800, 500, 1300]
centres, spreads = rng.normal(0, 4, (K, d)), rng.uniform(0.3, 2.0, (K, d))
X = np.vstack([centres[k] + spreads[k] * rng.normal(size=(n[k], d)) for k in range(K)])
units = np.array([1e-2, 1, 10, 1e3, 1e6, 1, 0.1])
sets['aniso_units'] = (X * units + np.array([0, 1e5, 0, 0, 0, -3e4, 0]), np.repeat(np.arange(K), n))
for name, (X, y) in sets.items():
    np.save(f'{out}/{name}_X.npy', X.astype(np.float64))
    np.save(f'{out}/{name}_y.npy', y.astype(np.float64).reshape(-1, 1))
    k = len(np.unique(y))
    row = {'set': name, 'n': X.shape[0], 'd': X.shape[1], 'k': k}
    for ct in ['spherical', 'diag']:
        t = time.time()
        g = GaussianMixture(k, covariance_type=ct, random_state=0).fit(X)
        row[ct] = round(ari(y, g.predict(X)), 3)
        row[ct + '_s'] = round(time.time() - t, 3)
    row['kmeans'] = round(ari(y, KMeans(k, n_init=10, random_state=0).fit_predict(X)), 3)
    print(json.dumps(row))
