# brms reference for distributional regression (issue 15, item 4), made
# outside stanmer.
#
#   cd tests/reference && Rscript make_references_distributional.R 2>&1 | tee make_references_distributional.log
#
# Needs R with brms (rstan) and jsonlite. Reads data/assays.csv (a copy of
# examples/distributional/assays.csv, simulated by its make_data.py) and writes
# references_distributional.json (formulas, family, priors and brms's posterior
# mean and sd of every parameter). The tests never run R.
#
# Priors are explicit and the same in both programs: class "Intercept" is the
# intercept at the predictors' column means (stanmer's Intercept_c and
# Intercept_sigma_c), "b" the slopes, "sd" the group sds (half distributions
# in both); dpar "sigma" selects the log-sd formula's.

suppressMessages({
  library(brms)
  library(jsonlite)
})

SEED <- 20261126
CHAINS <- 4
WARMUP <- 1000
ITER <- 2500 # 6000 kept draws in all

pr <- function(class, prior, coef = "", group = "", dpar = "") {
  data.frame(class = class, coef = coef, group = group, dpar = dpar, prior = prior)
}

models <- list(
  assays_sigma = list(
    data = "assays", family = "gaussian",
    formula = "y ~ dose + (1 | lab)", sigma = "~ dose + (1 | lab)",
    brms_family = gaussian(),
    priors = rbind(
      pr("Intercept", "student_t(3, 0, 2.5)"), pr("b", "normal(0, 1)"), pr("sd", "student_t(3, 0, 1)", "", "lab"),
      pr("Intercept", "student_t(3, 0, 2.5)", dpar = "sigma"), pr("b", "normal(0, 1)", dpar = "sigma"),
      pr("sd", "student_t(3, 0, 1)", "", "lab", "sigma")
    )
  )
)

brms_prior <- function(p) {
  do.call(rbind, lapply(seq_len(nrow(p)), function(i) {
    row <- p[i, ]
    prior_string(row$prior, class = row$class, coef = row$coef, group = row$group, dpar = row$dpar)
  }))
}

out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  df <- read.csv(file.path("data", paste0(m$data, ".csv")))
  started <- Sys.time()
  formula <- bf(as.formula(m$formula), as.formula(paste("sigma", m$sigma)))
  fit <- brm(formula, data = df, family = m$brms_family, prior = brms_prior(m$priors),
             chains = CHAINS, warmup = WARMUP, iter = ITER, seed = SEED, refresh = 0,
             control = list(adapt_delta = 0.95))
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|sd_)", names(draws), value = TRUE)
  posterior <- lapply(keep, function(v) list(mean = mean(draws[[v]]), sd = sd(draws[[v]])))
  names(posterior) <- keep
  out[[nm]] <- list(
    data = m$data, family = m$family, formula = m$formula, sigma = m$sigma, priors = m$priors,
    posterior = posterior, seconds = as.numeric(difftime(Sys.time(), started, units = "secs"))
  )
  cat(nm, "done\n")
  print(summary(fit))
}
out$versions <- list(R = R.version.string, brms = as.character(packageVersion("brms")),
                     rstan = as.character(packageVersion("rstan")))
write_json(out, "references_distributional.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
