// (C3) Group effects integrated out (Gaussian, intercept terms): Y ~ N(Intercept_c + Xc b, sigma^2 I + Z D Z'),
// D = diag(sd_1^2 (J_1 times), sd_2^2 (J_2 times)), Z = the level indicators of both terms (N x Q, Q = J_1 + J_2).
// Woodbury / determinant lemma with M = D^-1 + Z'Z / sigma^2 (Q x Q, the effects' conditional precision):
//   log N(e | 0, Sigma) = -N log sigma - sum_t J_t log sd_t - log|M| / 2 - (e'e / sigma^2 - c' M^-1 c) / 2 + const,
//   c = Z'e / sigma^2.  The effects are drawn in generated quantities from their exact conditional
//   r | theta, Y ~ N(M^-1 c, M^-1), so the joint posterior of (b, sds, sigma, r) is the plain program's.
// Same priors, no Jacobian (sd_1, sd_2, sigma are the parameters).
data {
  int<lower=1> N;
  int<lower=0, upper=1> prior_only;
  vector[N] Y;
  int<lower=0> K;
  matrix[N, K] X;
  int<lower=1> J_1;
  array[N] int<lower=1, upper=J_1> g_1;
  int<lower=1> J_2;
  array[N] int<lower=1, upper=J_2> g_2;
  vector[K] b_prior_mu;
  vector<lower=0>[K] b_prior_sigma;
  real<lower=0> Intercept_prior_nu;
  real Intercept_prior_mu;
  real<lower=0> Intercept_prior_sigma;
  real<lower=0> sd_1_prior_nu;
  real sd_1_prior_mu;
  real<lower=0> sd_1_prior_sigma;
  real<lower=0> sd_2_prior_nu;
  real sd_2_prior_mu;
  real<lower=0> sd_2_prior_sigma;
  real<lower=0> sigma_prior_nu;
  real sigma_prior_mu;
  real<lower=0> sigma_prior_sigma;
}
transformed data {
  vector[K] X_means;
  matrix[N, K] Xc;
  for (k in 1:K) {
    X_means[k] = mean(X[ : , k]);
    Xc[ : , k] = X[ : , k] - X_means[k];
  }
  int Q = J_1 + J_2;
  matrix[N, Q] Z = rep_matrix(0, N, Q);
  for (n in 1:N) {
    Z[n, g_1[n]] = 1;
    Z[n, J_1 + g_2[n]] = 1;
  }
  matrix[Q, Q] ZtZ = crossprod(Z);
}
parameters {
  vector[K] b;
  real Intercept_c;
  real<lower=0> sd_1;
  real<lower=0> sd_2;
  real<lower=0> sigma;
}
model {
  target += normal_lpdf(b | b_prior_mu, b_prior_sigma);
  target += student_t_lpdf(Intercept_c | Intercept_prior_nu, Intercept_prior_mu, Intercept_prior_sigma);
  target += student_t_lpdf(sd_1 | sd_1_prior_nu, sd_1_prior_mu, sd_1_prior_sigma);
  target += student_t_lpdf(sd_2 | sd_2_prior_nu, sd_2_prior_mu, sd_2_prior_sigma);
  target += student_t_lpdf(sigma | sigma_prior_nu, sigma_prior_mu, sigma_prior_sigma);
  if (!prior_only) {
    vector[N] e = Y - Intercept_c - Xc * b;
    matrix[Q, Q] L = cholesky_decompose(add_diag(ZtZ / square(sigma),
        append_row(rep_vector(inv_square(sd_1), J_1), rep_vector(inv_square(sd_2), J_2))));
    vector[Q] a = mdivide_left_tri_low(L, Z' * e / square(sigma));
    target += -N * log(sigma) - J_1 * log(sd_1) - J_2 * log(sd_2) - sum(log(diagonal(L)))
              - 0.5 * (dot_self(e) / square(sigma) - dot_self(a));
  }
}
generated quantities {
  real Intercept = Intercept_c - dot_product(X_means, b);
  vector[J_1] r_1;
  vector[J_2] r_2;
  {
    vector[Q] u;
    for (q in 1:Q) u[q] = normal_rng(0, 1);
    vector[Q] r;
    if (prior_only) {
      r = append_row(sd_1 * u[1:J_1], sd_2 * u[(J_1 + 1):Q]);
    } else {
      vector[N] e = Y - Intercept_c - Xc * b;
      matrix[Q, Q] L = cholesky_decompose(add_diag(ZtZ / square(sigma),
          append_row(rep_vector(inv_square(sd_1), J_1), rep_vector(inv_square(sd_2), J_2))));
      vector[Q] a = mdivide_left_tri_low(L, Z' * e / square(sigma));
      r = mdivide_right_tri_low((a + u)', L)';
    }
    r_1 = r[1:J_1];
    r_2 = r[(J_1 + 1):Q];
  }
}
