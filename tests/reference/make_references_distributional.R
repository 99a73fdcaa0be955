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

source("brms_common.R")

models <- list(
  assays_sigma = list(
    data = "assays", family = "gaussian",
    formula = "y ~ dose + (1 | lab)", sigma = "~ dose + (1 | lab)",
    brms_family = gaussian(),
    priors = rbind(
      pr("Intercept", "student_t(3, 0, 2.5)", dpar = ""), pr("b", "normal(0, 1)", dpar = ""),
      pr("sd", "student_t(3, 0, 1)", "", "lab", ""),
      pr("Intercept", "student_t(3, 0, 2.5)", dpar = "sigma"), pr("b", "normal(0, 1)", dpar = "sigma"),
      pr("sd", "student_t(3, 0, 1)", "", "lab", "sigma")
    )
  )
)

out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  df <- read.csv(file.path("data", paste0(m$data, ".csv")))
  formula <- bf(as.formula(m$formula), as.formula(paste("sigma", m$sigma)))
  result <- brms_posterior(formula, df, m$brms_family, m$priors, "^(b_|sd_)", iter = 2500) # 6000 kept draws
  out[[nm]] <- list(
    data = m$data, family = m$family, formula = m$formula, sigma = m$sigma, priors = m$priors,
    posterior = result$posterior, seconds = result$seconds
  )
  cat(nm, "done\n")
}
out$versions <- brms_versions()
write_json(out, "references_distributional.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
