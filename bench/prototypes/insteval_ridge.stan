// Prototype (bench/levers/ridge.py): stan/insteval.stan with the intercept ridge taken out.
// Same posterior as stan/insteval.stan, exactly:
//  - z_t = H_t u_t with H_t the Householder reflection that swaps e_1 and the unit
//    vector of equal entries (orthogonal, symmetric, |det| = 1), so u_t ~ N(0, I) as z_t
//    was and u_t[1] = sqrt(J_t) * mean(z_t) stands alone; for dept:service the
//    reflection works within each block of levels sharing one value of service;
//  - the sampler moves mu (the level the data pin: Intercept_c plus every term's mean
//    effect that X can absorb) and beta (b plus the service share of the block means)
//    instead of Intercept_c and b; Intercept_c and b follow by a triangular map with
//    unit diagonal (Jacobian 1) and keep stanmer's priors.
// The likelihood is stanmer's expansion verbatim, at the derived Intercept_c, b, z_t.
functions {
  // H u, H the Householder reflection swapping e_1 and rep_vector(1 / sqrt(J), J)
  vector from_mean_coordinate(vector u) {
    int J = rows(u);
    if (J == 1) return u;
    real s = inv_sqrt(J);
    vector[J] v = rep_vector(-s, J);
    v[1] += 1;
    return u - v * (dot_product(v, u) / (1 - s));
  }
}
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
  // the reparametrisation (bench/levers/ridge.py computes these):
  // the levels of dept:service fall into blocks within which every column of X is
  // constant (here: the two values of service); block_3_levels lists the levels
  // block by block, block_3_size[b] of them in block b
  int<lower=1> B_3;
  array[B_3] int<lower=1> block_3_size;
  array[J_3] int<lower=1, upper=J_3> block_3_levels;
  // solves [1, x_b - X_means] * (level shift, b shift) = block shift:
  // row 1 gives the intercept's share, rows 2.. the population effects' share
  matrix[1 + K, B_3] block_3_solve;
}
transformed data {
  vector[K] X_means;  // column means of X
  for (k in 1:K) X_means[k] = mean(X[ : , k]);
  array[B_3] int block_3_start;
  block_3_start[1] = 1;
  for (b in 2:B_3) block_3_start[b] = block_3_start[b - 1] + block_3_size[b - 1];
}
parameters {
  vector[K] beta;  // b plus the population share of the dept:service block means
  real mu;  // Intercept_c plus each term's mean effect (the part X's intercept absorbs)
  real<lower=0> sd_1;
  vector[J_1] u_1;  // z_1 = H u_1
  real<lower=0> sd_2;
  vector[J_2] u_2;
  real<lower=0> sd_3;
  vector[J_3] u_3;  // z_3 = H u_3 within each block of block_3_levels
  real<lower=0> sigma;
}
transformed parameters {
  real Intercept_c;
  vector[K] b;
  {
    vector[B_3] block_mean_3;  // mean of z_3 within each block
    for (k in 1:B_3) block_mean_3[k] = u_3[block_3_start[k]] * inv_sqrt(block_3_size[k]);
    vector[1 + K] shift_3 = sd_3 * (block_3_solve * block_mean_3);
    Intercept_c = mu - sd_1 * u_1[1] * inv_sqrt(J_1) - sd_2 * u_2[1] * inv_sqrt(J_2) - shift_3[1];
    b = beta - shift_3[2:(1 + K)];
  }
}
model {
  target += normal_lpdf(b | b_prior_mu, b_prior_sigma);
  target += student_t_lpdf(Intercept_c | Intercept_prior_nu, Intercept_prior_mu, Intercept_prior_sigma);
  target += student_t_lpdf(sd_1 | sd_1_prior_nu, sd_1_prior_mu, sd_1_prior_sigma);
  target += std_normal_lpdf(u_1);
  target += student_t_lpdf(sd_2 | sd_2_prior_nu, sd_2_prior_mu, sd_2_prior_sigma);
  target += std_normal_lpdf(u_2);
  target += student_t_lpdf(sd_3 | sd_3_prior_nu, sd_3_prior_mu, sd_3_prior_sigma);
  target += std_normal_lpdf(u_3);
  target += student_t_lpdf(sigma | sigma_prior_nu, sigma_prior_mu, sigma_prior_sigma);
  if (!prior_only) {
    vector[J_1] r_1 = sd_1 * from_mean_coordinate(u_1);
    vector[J_2] r_2 = sd_2 * from_mean_coordinate(u_2);
    vector[J_3] z_3;
    for (k in 1:B_3) {
      array[block_3_size[k]] int levels = block_3_levels[block_3_start[k]:(block_3_start[k] + block_3_size[k] - 1)];
      z_3[levels] = from_mean_coordinate(segment(u_3, block_3_start[k], block_3_size[k]));
    }
    vector[J_3] r_3 = sd_3 * z_3;
    real c = Intercept_c - mean_Y;
    // stanmer's residual sum of squares, expanded
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
  real Intercept = Intercept_c - dot_product(X_means, b);
}
