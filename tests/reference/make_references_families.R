# brms references for the families of issue 15, made outside stanmer.
#
#   cd tests/reference && Rscript make_references_families.R 2>&1 | tee make_references_families.log
#
# Needs R with brms (rstan), pscl, metafor and jsonlite. Writes
# data/bioChemists.csv, data/bcg.csv and references_families.json (formula,
# family, priors and brms's posterior mean and sd of every parameter). The
# tests never run R; they read what this script committed.
#
# Priors are explicit and the same in both programs: brms's class "Intercept"
# is stanmer's Intercept_c (the intercept at the predictors' column means),
# class "b" the slopes, class "sd" the group sds (half distributions in both),
# zi the zero-inflation probability.

suppressMessages({
  library(brms)
  library(jsonlite)
  library(pscl)
  library(metafor)
})

SEED <- 20261126
CHAINS <- 4
WARMUP <- 1000
ITER <- 3500 # 10000 kept draws in all

dir.create("data", showWarnings = FALSE)
# factors as 0/1 columns, so stanmer and brms name the coefficients alike
bio <- transform(bioChemists, fem = as.integer(fem == "Women"), mar = as.integer(mar == "Married"))
write.csv(bio, file.path("data", "bioChemists.csv"), row.names = FALSE)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(trial = bcg$trial, ablat = bcg$ablat, yi = as.numeric(bcg$yi), sei = sqrt(bcg$vi))
write.csv(bcg, file.path("data", "bcg.csv"), row.names = FALSE)

pr <- function(class, prior, coef = "", group = "") {
  data.frame(class = class, coef = coef, group = group, prior = prior)
}

models <- list(
  biochemists_zip = list(
    data = "bioChemists", family = "zero_inflated_poisson",
    formula = "art ~ fem + mar + kid5 + phd + ment",
    brms_family = zero_inflated_poisson(),
    priors = rbind(
      pr("Intercept", "student_t(3, 0, 2.5)"), pr("b", "normal(0, 1)"), pr("zi", "beta(1, 1)")
    )
  ),
  bcg_meta = list(
    data = "bcg", family = "gaussian",
    formula = "yi | se(sei) ~ 1 + ablat + (1 | trial)",
    brms_family = gaussian(),
    priors = rbind(
      pr("Intercept", "student_t(3, 0, 2.5)"), pr("b", "normal(0, 1)"),
      pr("sd", "student_t(3, 0, 1)", "", "trial")
    )
  )
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
  df <- read.csv(file.path("data", paste0(m$data, ".csv")))
  started <- Sys.time()
  fit <- brm(as.formula(m$formula), data = df, family = m$brms_family, prior = brms_prior(m$priors),
             chains = CHAINS, warmup = WARMUP, iter = ITER, seed = SEED, refresh = 0,
             control = list(adapt_delta = 0.95))
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|sd_|sigma$|zi$|hu$)", names(draws), value = TRUE)
  # with se() alone brms keeps sigma in its draws, fixed at 0: not a parameter
  keep <- keep[sapply(keep, function(v) sd(draws[[v]]) > 0)]
  posterior <- lapply(keep, function(v) list(mean = mean(draws[[v]]), sd = sd(draws[[v]])))
  names(posterior) <- keep
  out[[nm]] <- list(
    data = m$data, family = m$family, formula = m$formula, priors = m$priors,
    posterior = posterior, seconds = as.numeric(difftime(Sys.time(), started, units = "secs"))
  )
  cat(nm, "done\n")
  print(summary(fit))
}
out$versions <- list(R = R.version.string, brms = as.character(packageVersion("brms")),
                     rstan = as.character(packageVersion("rstan")))
write_json(out, "references_families.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
