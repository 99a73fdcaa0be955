// Control for the ridge prototypes (bench/levers/ridge.py): stan/insteval.stan with d and
// dept:service centred (r_2, r_3 are parameters with prior N(0, sd_t)), no reflections;
// insteval_plain_ccc.stan: s centred too.
// formula: y ~ service + (1 | s) + (1 | d) + (1 | dept:service)
// family:  gaussian(identity)
// names:   b = population effects, Intercept_c = intercept at the predictors' means,
//          sd_t, z_t, L_t, r_t = sds, standardised effects, Cholesky factor and
//          effects of group term t (the stanmer README documents the scheme)
data {
  int<lower=1> N;  // number of observations
  int<lower=0, upper=1> prior_only;  // 1 = sample the prior only (likelihood off)
  vector[N] Y;  // response: y

  // population-level effects: service
  int<lower=0> K;  // number of population-level columns (intercept excluded)
  matrix[N, K] X;  // population-level design matrix

  // group term 1: (1 | s) -> Intercept by s
  int<lower=1> J_1;  // number of levels of s
  array[N] int<lower=1, upper=J_1> g_1;  // level of each observation

  // group term 2: (1 | d) -> Intercept by d
  int<lower=1> J_2;  // number of levels of d
  array[N] int<lower=1, upper=J_2> g_2;  // level of each observation

  // group term 3: (1 | dept:service) -> Intercept by dept:service
  int<lower=1> J_3;  // number of levels of dept:service
  array[N] int<lower=1, upper=J_3> g_3;  // level of each observation

  // sufficient statistics of the Gaussian likelihood (computed when the data are prepared),
  // with Yc = Y - mean_Y (offsets subtracted first) and Xc = X - its column means
  real mean_Y;  // mean response
  real YcYc;  // Yc' * Yc
  vector[K] XcYc;  // Xc' * Yc
  matrix[K, K] XcXc;  // Xc' * Xc
  vector[J_1] n_1;  // rows per level of group term 1
  vector[J_1] sYc_1;  // sum of Yc per level
  matrix[J_1, K] sXc_1;  // sum of Xc rows per level
  vector[J_2] n_2;  // rows per level of group term 2
  vector[J_2] sYc_2;  // sum of Yc per level
  matrix[J_2, K] sXc_2;  // sum of Xc rows per level
  vector[J_3] n_3;  // rows per level of group term 3
  vector[J_3] sYc_3;  // sum of Yc per level
  matrix[J_3, K] sXc_3;  // sum of Xc rows per level
  // levels of two group terms that share rows: pair p joins level C_t_u_j[p] of term t
  // and level C_t_u_k[p] of term u in C_t_u_n[p] rows
  int<lower=0> C_1_2_nnz;  // level pairs of terms 1 and 2
  vector[C_1_2_nnz] C_1_2_n;
  array[C_1_2_nnz] int<lower=1, upper=J_1> C_1_2_j;
  array[C_1_2_nnz] int<lower=1, upper=J_2> C_1_2_k;
  int<lower=0> C_1_3_nnz;  // level pairs of terms 1 and 3
  vector[C_1_3_nnz] C_1_3_n;
  array[C_1_3_nnz] int<lower=1, upper=J_1> C_1_3_j;
  array[C_1_3_nnz] int<lower=1, upper=J_3> C_1_3_k;
  int<lower=0> C_2_3_nnz;  // level pairs of terms 2 and 3
  vector[C_2_3_nnz] C_2_3_n;
  array[C_2_3_nnz] int<lower=1, upper=J_2> C_2_3_j;
  array[C_2_3_nnz] int<lower=1, upper=J_3> C_2_3_k;
  // prior hyperparameters: data, so new numbers reuse the program
  vector[K] b_prior_mu;  // mu of the normal prior on population-level effects
  vector<lower=0>[K] b_prior_sigma;  // sigma of the normal prior on population-level effects
  real<lower=0> Intercept_prior_nu;  // nu of the student_t prior on the intercept
  real Intercept_prior_mu;  // mu of the student_t prior on the intercept
  real<lower=0> Intercept_prior_sigma;  // sigma of the student_t prior on the intercept
  real<lower=0> sd_1_prior_nu;  // nu of the student_t prior on the sd of Intercept by s
  real sd_1_prior_mu;  // mu of the student_t prior on the sd of Intercept by s
  real<lower=0> sd_1_prior_sigma;  // sigma of the student_t prior on the sd of Intercept by s
  real<lower=0> sd_2_prior_nu;  // nu of the student_t prior on the sd of Intercept by d
  real sd_2_prior_mu;  // mu of the student_t prior on the sd of Intercept by d
  real<lower=0> sd_2_prior_sigma;  // sigma of the student_t prior on the sd of Intercept by d
  real<lower=0> sd_3_prior_nu;  // nu of the student_t prior on the sd of Intercept by dept:service
  real sd_3_prior_mu;  // mu of the student_t prior on the sd of Intercept by dept:service
  real<lower=0> sd_3_prior_sigma;  // sigma of the student_t prior on the sd of Intercept by dept:service
  real<lower=0> sigma_prior_nu;  // nu of the student_t prior on the residual sd
  real sigma_prior_mu;  // mu of the student_t prior on the residual sd
  real<lower=0> sigma_prior_sigma;  // sigma of the student_t prior on the residual sd
}
transformed data {
  // centre the predictors: the intercept then samples nearly independently of b
  vector[K] X_means;  // column means of X
  for (k in 1:K) X_means[k] = mean(X[ : , k]);
}
parameters {
  vector[K] b;  // population-level effects
  real Intercept_c;  // intercept at the predictors' means
  // group term 1: (1 | s)
  real<lower=0> sd_1;  // standard deviation
  vector[J_1] z_1;  // standardised effects
  // group term 2: (1 | d)
  real<lower=0> sd_2;  // standard deviation
  vector[J_2] r_2;  // effects (centred)
  // group term 3: (1 | dept:service)
  real<lower=0> sd_3;  // standard deviation
  vector[J_3] r_3;  // effects (centred)
  real<lower=0> sigma;  // residual standard deviation
}
model {
  target += normal_lpdf(b | b_prior_mu, b_prior_sigma);
  target += student_t_lpdf(Intercept_c | Intercept_prior_nu, Intercept_prior_mu, Intercept_prior_sigma);
  target += student_t_lpdf(sd_1 | sd_1_prior_nu, sd_1_prior_mu, sd_1_prior_sigma);
  target += std_normal_lpdf(z_1);
  target += student_t_lpdf(sd_2 | sd_2_prior_nu, sd_2_prior_mu, sd_2_prior_sigma);
  target += normal_lpdf(r_2 | 0, sd_2);
  target += student_t_lpdf(sd_3 | sd_3_prior_nu, sd_3_prior_mu, sd_3_prior_sigma);
  target += normal_lpdf(r_3 | 0, sd_3);
  target += student_t_lpdf(sigma | sigma_prior_nu, sigma_prior_mu, sigma_prior_sigma);
  // likelihood, through sufficient statistics: work scales with levels and level pairs, not rows
  if (!prior_only) {
    vector[J_1] r_1 = sd_1 * z_1;  // Intercept by s
    real c = Intercept_c - mean_Y;  // the intercept on the centred response
    // residual sum of squares, expanded
    real rss = YcYc - 2 * dot_product(b, XcYc) + N * square(c) + quad_form(XcXc, b)
               - 2 * dot_product(r_1, sYc_1 - c * n_1 - sXc_1 * b) + dot_product(n_1, square(r_1))
               - 2 * dot_product(r_2, sYc_2 - c * n_2 - sXc_2 * b) + dot_product(n_2, square(r_2))
               - 2 * dot_product(r_3, sYc_3 - c * n_3 - sXc_3 * b) + dot_product(n_3, square(r_3))
               + 2 * dot_product(C_1_2_n, r_1[C_1_2_j] .* r_2[C_1_2_k])
               + 2 * dot_product(C_1_3_n, r_1[C_1_3_j] .* r_3[C_1_3_k])
               + 2 * dot_product(C_2_3_n, r_2[C_2_3_j] .* r_3[C_2_3_k]);
    target += -N * log(sigma) - rss / (2 * square(sigma));
  }
}
generated quantities {
  real Intercept = Intercept_c - dot_product(X_means, b);  // intercept on the original scale
}
