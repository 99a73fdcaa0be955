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

source("brms_common.R")

dir.create("data", showWarnings = FALSE)
write.csv(inhaler, file.path("data", "inhaler.csv"), row.names = FALSE)

priors <- rbind(
  pr("Intercept", "student_t(3, 0, 2.5)"), pr("b", "normal(0, 1)"),
  pr("sd", "student_t(3, 0, 2.5)", "", "subject")
)
formula <- "rating ~ treat + period + carry + (1 | subject)"

models <- list(
  inhaler_cumulative_logit = list(link = "logit"),
  inhaler_cumulative_probit = list(link = "probit")
)

out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  result <- brms_posterior(formula, inhaler, cumulative(m$link), priors, "^(b_|sd_)")
  out[[nm]] <- list(
    data = "inhaler", family = "cumulative", link = m$link, formula = formula, priors = priors,
    posterior = result$posterior, seconds = result$seconds
  )
  cat(nm, "done\n")
}
out$versions <- brms_versions()
write_json(out, "references_ordinal.json", auto_unbox = TRUE, digits = 8, pretty = TRUE)
