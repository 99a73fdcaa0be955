# What every brms reference script shares: the sampler settings, the prior
# table, and one brms fit exported as the posterior mean and sd of each
# parameter. Sourced by make_references_families.R and make_references_ordinal.R.

SEED <- 20261126
CHAINS <- 4
WARMUP <- 1000
ITER <- 3500 # 10000 kept draws in all

# One prior row, as stanmer.prior takes it (class, coef, group, distribution;
# dpar for a formula of an auxiliary parameter, written only when some row has one).
pr <- function(class, prior, coef = "", group = "", dpar = NULL) {
  row <- data.frame(class = class, coef = coef, group = group, prior = prior)
  if (!is.null(dpar)) row$dpar <- dpar
  row
}

brms_prior <- function(p) {
  do.call(rbind, lapply(seq_len(nrow(p)), function(i) {
    row <- p[i, ]
    dpar <- if (is.null(row$dpar)) "" else row$dpar
    prior_string(row$prior, class = row$class, coef = row$coef, group = row$group, dpar = dpar)
  }))
}

# Fit with brms and return list(posterior = name -> list(mean, sd), seconds).
# Only draws named by `keep_pattern` are kept, and only those that vary (with
# se() alone brms keeps sigma in its draws, fixed at 0: not a parameter).
# `formula` is text or a brms formula (bf()).
brms_posterior <- function(formula, data, family, priors, keep_pattern, iter = ITER) {
  started <- Sys.time()
  if (is.character(formula)) formula <- as.formula(formula)
  fit <- brm(formula, data = data, family = family, prior = brms_prior(priors),
             chains = CHAINS, warmup = WARMUP, iter = iter, seed = SEED, refresh = 0,
             control = list(adapt_delta = 0.95))
  print(summary(fit))
  draws <- as_draws_df(fit)
  keep <- grep(keep_pattern, names(draws), value = TRUE)
  keep <- keep[sapply(keep, function(v) sd(draws[[v]]) > 0)]
  posterior <- lapply(keep, function(v) list(mean = mean(draws[[v]]), sd = sd(draws[[v]])))
  names(posterior) <- keep
  list(posterior = posterior, seconds = as.numeric(difftime(Sys.time(), started, units = "secs")))
}

brms_versions <- function() {
  list(R = R.version.string, brms = as.character(packageVersion("brms")),
       rstan = as.character(packageVersion("rstan")))
}
