# scikit-learn's GaussianMixture on one data set for research/student-fit.ts: JSON {X, k, covariance} on stdin,
# JSON {means, variances (K x d), weights, labels} on stdout.
import json, sys
import numpy as np
from sklearn.mixture import GaussianMixture

q = json.load(sys.stdin)
X = np.asarray(q["X"], dtype=float)
gm = GaussianMixture(n_components=q["k"], covariance_type=q["covariance"], random_state=0).fit(X)
cov = gm.covariances_
var = np.repeat(cov[:, None], X.shape[1], axis=1) if q["covariance"] == "spherical" else cov
json.dump({"means": gm.means_.tolist(), "variances": var.tolist(), "weights": gm.weights_.tolist(), "labels": gm.predict(X).tolist()}, sys.stdout)
