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

source("brms_common.R")

dir.create("data", showWarnings = FALSE)
# factors as 0/1 columns, so stanmer and brms name the coefficients alike
bio <- transform(bioChemists, fem = as.integer(fem == "Women"), mar = as.integer(mar == "Married"))
write.csv(bio, file.path("data", "bioChemists.csv"), row.names = FALSE)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(trial = bcg$trial, ablat = bcg$ablat, yi = as.numeric(bcg$yi), sei = sqrt(bcg$vi))
write.csv(bcg, file.path("data", "bcg.csv"), row.names = FALSE)

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

out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  df <- read.csv(file.path("data", paste0(m$data, ".csv")))
  result <- brms_posterior(m$formula, df, m$brms_family, m$priors, "^(b_|sd_|sigma$|zi$|hu$)")
  out[[nm]] <- list(
    data = m$data, family = m$family, formula = m$formula, priors = m$priors,
    posterior = result$posterior, seconds = result$seconds
  )
  cat(nm, "done\n")
}
out$versions <- brms_versions()
write_json(out, "references_families.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
