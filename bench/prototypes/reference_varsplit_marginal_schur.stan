// (C4) As (C3), group effects integrated out, but with the Q x Q precision's block structure and per-level sums:
// order the effects (comps r_1, athletes r_2); M = [A, B; B', C] with A = diag(n_1 / sigma^2 + 1 / sd_1^2),
// C = diag(n_2 / sigma^2 + 1 / sd_2^2) (diagonal: each row has one level of a term), B = N_12 / sigma^2
// (N_12[j, k] = rows with comp j and athlete k). The largest term (athletes) is eliminated in closed form:
//   log|M| = sum(log c) + log|S|,  S = A - B C^-1 B'  (J_1 x J_1, the only Cholesky),
//   c' M^-1 c = sum(u_2^2 / c) + h' S^-1 h,  u_t = Z_t'e / sigma^2,  h = u_1 - B C^-1 u_2.
// Residual sums from data (no pass over N): Z_t'e = sY_t - n_t Intercept_c - sXc_t b,
// e'e = Y'Y - 2 Intercept_c sum(Y) - 2 b'Xc'Y + N Intercept_c^2 + b'Xc'Xc b (Xc centred).
// Effects drawn from their exact conditional: r_1 ~ N(S^-1 h, S^-1), r_2 | r_1 ~ N((u_2 - B'r_1) / c, diag(1 / c)).
// Same priors, no Jacobian.
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
  real YY = dot_self(Y);
  real sum_Y = sum(Y);
  vector[K] XcY = Xc' * Y;
  matrix[K, K] XcXc = crossprod(Xc);
  vector[J_1] n_1 = rep_vector(0, J_1);
  vector[J_2] n_2 = rep_vector(0, J_2);
  vector[J_1] sY_1 = rep_vector(0, J_1);
  vector[J_2] sY_2 = rep_vector(0, J_2);
  matrix[J_1, K] sXc_1 = rep_matrix(0, J_1, K);
  matrix[J_2, K] sXc_2 = rep_matrix(0, J_2, K);
  matrix[J_1, J_2] N_12 = rep_matrix(0, J_1, J_2);
  for (n in 1:N) {
    n_1[g_1[n]] += 1;
    n_2[g_2[n]] += 1;
    sY_1[g_1[n]] += Y[n];
    sY_2[g_2[n]] += Y[n];
    sXc_1[g_1[n]] += Xc[n];
    sXc_2[g_2[n]] += Xc[n];
    N_12[g_1[n], g_2[n]] += 1;
  }
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
    real s2 = square(sigma);
    real ee = YY - 2 * Intercept_c * sum_Y - 2 * dot_product(b, XcY) + N * square(Intercept_c) + quad_form(XcXc, b);
    vector[J_1] u_1 = (sY_1 - n_1 * Intercept_c - sXc_1 * b) / s2;
    vector[J_2] u_2 = (sY_2 - n_2 * Intercept_c - sXc_2 * b) / s2;
    vector[J_2] c = n_2 / s2 + inv_square(sd_2);
    matrix[J_1, J_1] L = cholesky_decompose(add_diag(-tcrossprod(diag_post_multiply(N_12, inv_sqrt(c))) / square(s2),
                                                     n_1 / s2 + inv_square(sd_1)));
    vector[J_1] v = mdivide_left_tri_low(L, u_1 - N_12 * (u_2 ./ c) / s2);
    target += -N * log(sigma) - J_1 * log(sd_1) - J_2 * log(sd_2) - 0.5 * sum(log(c)) - sum(log(diagonal(L)))
              - 0.5 * (ee / s2 - dot_self(u_2 ./ sqrt(c)) - dot_self(v));
  }
}
generated quantities {
  real Intercept = Intercept_c - dot_product(X_means, b);
  vector[J_1] r_1;
  vector[J_2] r_2;
  {
    vector[J_1] w_1;
    vector[J_2] w_2;
    for (j in 1:J_1) w_1[j] = normal_rng(0, 1);
    for (j in 1:J_2) w_2[j] = normal_rng(0, 1);
    if (prior_only) {
      r_1 = sd_1 * w_1;
      r_2 = sd_2 * w_2;
    } else {
      real s2 = square(sigma);
      vector[J_1] u_1 = (sY_1 - n_1 * Intercept_c - sXc_1 * b) / s2;
      vector[J_2] u_2 = (sY_2 - n_2 * Intercept_c - sXc_2 * b) / s2;
      vector[J_2] c = n_2 / s2 + inv_square(sd_2);
      matrix[J_1, J_1] L = cholesky_decompose(add_diag(-tcrossprod(diag_post_multiply(N_12, inv_sqrt(c))) / square(s2),
                                                       n_1 / s2 + inv_square(sd_1)));
      vector[J_1] v = mdivide_left_tri_low(L, u_1 - N_12 * (u_2 ./ c) / s2);
      r_1 = mdivide_right_tri_low((v + w_1)', L)';
      r_2 = (u_2 - N_12' * r_1 / s2) ./ c + w_2 ./ sqrt(c);
    }
  }
}
