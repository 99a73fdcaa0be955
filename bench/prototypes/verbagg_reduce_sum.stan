// Hand-written prototype (bench/levers/threads.py): stanmer's VerbAgg program with its
// likelihood in reduce_sum over row slices, for within-chain threads. Not generated.
// formula: r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)
// family:  bernoulli(logit)
// names:   b = population effects, Intercept_c = intercept at the predictors' means,
//          sd_t, z_t, L_t, r_t = sds, standardised effects, Cholesky factor and
//          effects of group term t (the stanmer README documents the scheme)
functions {
  // log likelihood of the rows start..end (a slice of Y): the linear predictor
  // is built for the slice only, so each thread gathers only its own rows
  real partial_log_lik_lpmf(array[] int Y_slice, int start, int end, matrix Xc, vector b,
                            real Intercept_c, array[] int g_1, vector r_1,
                            array[] int g_2, vector r_2) {
    vector[end - start + 1] eta = Intercept_c + r_1[g_1[start:end]] + r_2[g_2[start:end]];
    return bernoulli_logit_glm_lupmf(Y_slice | Xc[start:end], eta, b);
  }
}
data {
  int<lower=1> N;  // number of observations
  int<lower=0, upper=1> prior_only;  // 1 = sample the prior only (likelihood off)
  array[N] int<lower=0, upper=1> Y;  // response: r2
  int<lower=1> grainsize;  // rows per reduce_sum slice (a scheduling hint)

  // population-level effects: Anger, Gender[M], btype[scold], btype[shout], situ[self]
  int<lower=0> K;  // number of population-level columns (intercept excluded)
  matrix[N, K] X;  // population-level design matrix

  // group term 1: (1 | id) -> Intercept by id
  // non-centred: no estimate of its information (family bernoulli(logit); estimated for Gaussian identity-link models only)
  int<lower=1> J_1;  // number of levels of id
  array[N] int<lower=1, upper=J_1> g_1;  // level of each observation

  // group term 2: (1 | item) -> Intercept by item
  // non-centred: no estimate of its information (family bernoulli(logit); estimated for Gaussian identity-link models only)
  int<lower=1> J_2;  // number of levels of item
  array[N] int<lower=1, upper=J_2> g_2;  // level of each observation
  // prior hyperparameters: data, so new numbers reuse the program
  vector[K] b_prior_mu;  // mu of the normal prior on population-level effects
  vector<lower=0>[K] b_prior_sigma;  // sigma of the normal prior on population-level effects
  real<lower=0> Intercept_prior_nu;  // nu of the student_t prior on the intercept
  real Intercept_prior_mu;  // mu of the student_t prior on the intercept
  real<lower=0> Intercept_prior_sigma;  // sigma of the student_t prior on the intercept
  real<lower=0> sd_1_prior_nu;  // nu of the student_t prior on the sd of Intercept by id
  real sd_1_prior_mu;  // mu of the student_t prior on the sd of Intercept by id
  real<lower=0> sd_1_prior_sigma;  // sigma of the student_t prior on the sd of Intercept by id
  real<lower=0> sd_2_prior_nu;  // nu of the student_t prior on the sd of Intercept by item
  real sd_2_prior_mu;  // mu of the student_t prior on the sd of Intercept by item
  real<lower=0> sd_2_prior_sigma;  // sigma of the student_t prior on the sd of Intercept by item
}
transformed data {
  // centre the predictors: the intercept then samples nearly independently of b
  vector[K] X_means;  // column means of X
  matrix[N, K] Xc;  // centred design matrix
  for (k in 1:K) {
    X_means[k] = mean(X[ : , k]);
    Xc[ : , k] = X[ : , k] - X_means[k];
  }
}
parameters {
  vector[K] b;  // population-level effects
  real Intercept_c;  // intercept at the predictors' means
  // group term 1: (1 | id)
  real<lower=0> sd_1;  // standard deviation
  vector[J_1] z_1;  // standardised effects
  // group term 2: (1 | item)
  real<lower=0> sd_2;  // standard deviation
  vector[J_2] z_2;  // standardised effects
}
model {
  target += normal_lpdf(b | b_prior_mu, b_prior_sigma);
  target += student_t_lpdf(Intercept_c | Intercept_prior_nu, Intercept_prior_mu, Intercept_prior_sigma);
  target += student_t_lpdf(sd_1 | sd_1_prior_nu, sd_1_prior_mu, sd_1_prior_sigma);
  target += std_normal_lpdf(z_1);
  target += student_t_lpdf(sd_2 | sd_2_prior_nu, sd_2_prior_mu, sd_2_prior_sigma);
  target += std_normal_lpdf(z_2);
  // likelihood
  if (!prior_only) {
    vector[J_1] r_1 = sd_1 * z_1;  // Intercept by id
    vector[J_2] r_2 = sd_2 * z_2;  // Intercept by item
    // _lpmf, not _lupmf: stanli 0.24 rejects the _lupmf name here ("unknown partial-sum
    // function"); the Bernoulli has no constant to drop, so the two are equal
    target += reduce_sum(partial_log_lik_lpmf, Y, grainsize, Xc, b, Intercept_c, g_1, r_1, g_2, r_2);
  }
}
generated quantities {
  real Intercept = Intercept_c - dot_product(X_means, b);  // intercept on the original scale
}
