// (C1) Effects on sigma's scale: sd_t = sigma * lambda_t, r_t = sigma * lambda_t * z_t.
// Priors stay on sd_t = sigma * lambda_t; Jacobian of (sigma, lambda_1, lambda_2) -> (sigma, sd_1, sd_2) is sigma^2.
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
}
parameters {
  vector[K] b;
  real Intercept_c;
  real<lower=0> sigma;
  real<lower=0> lambda_1;
  vector[J_1] z_1;
  real<lower=0> lambda_2;
  vector[J_2] z_2;
}
transformed parameters {
  real<lower=0> sd_1 = sigma * lambda_1;
  real<lower=0> sd_2 = sigma * lambda_2;
}
model {
  target += 2 * log(sigma);
  target += normal_lpdf(b | b_prior_mu, b_prior_sigma);
  target += student_t_lpdf(Intercept_c | Intercept_prior_nu, Intercept_prior_mu, Intercept_prior_sigma);
  target += student_t_lpdf(sd_1 | sd_1_prior_nu, sd_1_prior_mu, sd_1_prior_sigma);
  target += student_t_lpdf(sd_2 | sd_2_prior_nu, sd_2_prior_mu, sd_2_prior_sigma);
  target += student_t_lpdf(sigma | sigma_prior_nu, sigma_prior_mu, sigma_prior_sigma);
  target += std_normal_lpdf(z_1);
  target += std_normal_lpdf(z_2);
  if (!prior_only) {
    vector[N] eta = Intercept_c + sd_1 * z_1[g_1] + sd_2 * z_2[g_2];
    target += normal_id_glm_lupdf(Y | Xc, eta, b, sigma);
  }
}
generated quantities {
  real Intercept = Intercept_c - dot_product(X_means, b);
}
