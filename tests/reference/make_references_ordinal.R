# brms references for ordinal responses (family cumulative, issue 15), made outside stanmer.
#
#   cd tests/reference && Rscript make_references_ordinal.R 2>&1 | tee make_references_ordinal.log
#
# Needs R with brms (rstan) and jsonlite. Writes data/inhaler.csv (brms's
# inhaler data: a 4-point rating of an inhaler by 286 subjects in a
# two-period crossover) and references_ordinal.json (formula, family, link,
# priors and brms's posterior mean and sd of every parameter). The tests
# never run R; they read what this script committed.
#
# Priors are explicit and the same in both programs: brms's class "Intercept"
# of a cumulative model is its thresholds for centred predictors, stanmer's
# Intercept_c; class "b" the slopes, class "sd" the group sd (half in both).
# brms reports the thresholds on the original scale as b_Intercept[k],
# stanmer as b[Intercept[k]].

suppressMessages({
  library(brms)
  library(jsonlite)
})

SEED <- 20261126
CHAINS <- 4
WARMUP <- 1000
ITER <- 3500 # 10000 kept draws in all

dir.create("data", showWarnings = FALSE)
write.csv(inhaler, file.path("data", "inhaler.csv"), row.names = FALSE)

pr <- function(class, prior, coef = "", group = "") {
  data.frame(class = class, coef = coef, group = group, prior = prior)
}
priors <- rbind(
  pr("Intercept", "student_t(3, 0, 2.5)"), pr("b", "normal(0, 1)"),
  pr("sd", "student_t(3, 0, 2.5)", "", "subject")
)
formula <- "rating ~ treat + period + carry + (1 | subject)"

models <- list(
  inhaler_cumulative_logit = list(link = "logit"),
  inhaler_cumulative_probit = list(link = "probit")
)

brms_prior <- function(p) {
  do.call(rbind, lapply(seq_len(nrow(p)), function(i) {
    row <- p[i, ]
    prior_string(row$prior, class = row$class, coef = row$coef, group = row$group)
  }))
}

out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  started <- Sys.time()
  fit <- brm(as.formula(formula), data = inhaler, family = cumulative(m$link), prior = brms_prior(priors),
             chains = CHAINS, warmup = WARMUP, iter = ITER, seed = SEED, refresh = 0,
             control = list(adapt_delta = 0.95))
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|sd_)", names(draws), value = TRUE)
  posterior <- lapply(keep, function(v) list(mean = mean(draws[[v]]), sd = sd(draws[[v]])))
  names(posterior) <- keep
  out[[nm]] <- list(
    data = "inhaler", family = "cumulative", link = m$link, formula = formula, priors = priors,
    posterior = posterior, seconds = as.numeric(difftime(Sys.time(), started, units = "secs"))
  )
  cat(nm, "done\n")
  print(summary(fit))
}
out$versions <- list(R = R.version.string, brms = as.character(packageVersion("brms")),
                     rstan = as.character(packageVersion("rstan")))
write_json(out, "references_ordinal.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
