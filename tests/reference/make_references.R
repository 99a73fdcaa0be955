# External references for stanmer, made outside stanmer by lme4 and brms.
#
#   cd tests/reference && Rscript make_references.R 2>&1 | tee make_references.log
#
# Needs R with lme4, brms (rstan) and jsonlite (Debian: apt-get install r-cran-lme4
# r-cran-brms). Writes data/*.csv (lme4's datasets, read by the tests),
# references.json (the numbers the tests compare stanmer with) and versions.txt.
# The tests never run R; they read what this script committed.
#
# Priors. Each brms fit uses the priors stanmer picks by default for that model
# (stanmer.design(formula, df, family).spec.priors, numbers to 6 significant
# digits), so the two posteriors are of the same model. They map one to one:
# - stanmer's Intercept prior is on `Intercept_c`, the intercept at the
#   population predictors' column means, which is exactly what brms's
#   class = "Intercept" is (brms centres the design matrix the same way); both
#   report the intercept on the original scale (stanmer `Intercept`, brms
#   `b_Intercept`).
# - class "b" priors are per coefficient on the uncentred slopes in both.
# - class "sd" priors are on each group sd, bounded below at zero in both (a
#   half distribution); class "cor" is lkj on the Cholesky factor in both;
#   sigma is half student_t in both.
# Each prior row below names the coefficient as stanmer spells it (`coef`)
# and as brms spells it (`brms_coef`); references.json records them.

suppressMessages({
  library(lme4)
  library(brms)
  library(jsonlite)
})

SEED <- 20251126
CHAINS <- 4
WARMUP <- 1000
ITER <- 3500 # 2500 kept draws per chain, 10000 in all: Monte Carlo error ~0.01-0.03 sd

dir.create("data", showWarnings = FALSE)
datasets <- list(
  sleepstudy = sleepstudy, Penicillin = Penicillin, Pastes = Pastes,
  cbpp = cbpp, Dyestuff = Dyestuff
)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path("data", paste0(nm, ".csv")), row.names = FALSE)
}
# columns the tests must read as factors (CSV loses R's factor type)
factors <- list(
  sleepstudy = "Subject", Penicillin = c("plate", "sample"),
  Pastes = c("batch", "cask", "sample"), cbpp = c("herd", "period"), Dyestuff = "Batch"
)

pr <- function(class, prior, coef = "", group = "", brms_coef = coef) {
  data.frame(class = class, coef = coef, group = group, prior = prior, brms_coef = brms_coef)
}

# sleepstudy's defaults, shared by the default-prior and flat-ish-prior models
sleep_sd_priors <- rbind(
  pr("sd", "student_t(3, 0, 56.1721)", "Intercept", "Subject"),
  pr("sd", "student_t(3, 0, 19.5566)", "Days", "Subject"),
  pr("cor", "lkj(1)", "", "Subject"),
  pr("sigma", "student_t(3, 0, 56.1721)")
)
cbpp_b_priors <- rbind(
  pr("b", "normal(0, 5.7735)", "period[2]", brms_coef = "period2"),
  pr("b", "normal(0, 5.7735)", "period[3]", brms_coef = "period3"),
  pr("b", "normal(0, 5.92137)", "period[4]", brms_coef = "period4"),
  pr("sd", "student_t(3, 0, 1)", "Intercept", "herd")
)

models <- list(
  # Gaussian, correlated varying intercept and slope; stanmer's default priors.
  list(
    name = "sleepstudy_slopes", dataset = "sleepstudy", family = "gaussian",
    lme4 = list(list(syntax = "lmer", formula = "Reaction ~ Days + (Days | Subject)")),
    brms_formula = "Reaction ~ Days + (Days | Subject)",
    stanmer = list(list(syntax = "plain", formula = "Reaction ~ Days + (Days | Subject)")),
    priors = rbind(
      pr("Intercept", "student_t(3, 298.508, 140.43)"),
      pr("b", "normal(0, 48.8915)", "Days"),
      sleep_sd_priors
    ),
    compare_lme4 = FALSE
  ),
  # The same model with flat-ish priors on the intercept and slope, where the
  # posterior means of the fixed effects should sit on lme4's REML estimates.
  list(
    name = "sleepstudy_flat", dataset = "sleepstudy", family = "gaussian",
    lme4 = list(list(syntax = "lmer", formula = "Reaction ~ Days + (Days | Subject)")),
    brms_formula = "Reaction ~ Days + (Days | Subject)",
    stanmer = list(list(syntax = "plain", formula = "Reaction ~ Days + (Days | Subject)")),
    priors = rbind(
      pr("Intercept", "normal(0, 10000)"),
      pr("b", "normal(0, 10000)", "Days"),
      sleep_sd_priors
    ),
    compare_lme4 = TRUE
  ),
  # Crossed intercepts, no population predictors besides the intercept.
  list(
    name = "penicillin_crossed", dataset = "Penicillin", family = "gaussian",
    lme4 = list(list(syntax = "lmer", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)")),
    brms_formula = "diameter ~ 1 + (1 | plate) + (1 | sample)",
    stanmer = list(list(syntax = "plain", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)")),
    priors = rbind(
      pr("Intercept", "student_t(3, 22.9722, 5.05992)"),
      pr("sd", "student_t(3, 0, 2.02397)", "Intercept", "plate"),
      pr("sd", "student_t(3, 0, 2.02397)", "Intercept", "sample"),
      pr("sigma", "student_t(3, 0, 2.02397)")
    ),
    compare_lme4 = FALSE
  ),
  # Nested intercepts: (1 | batch/cask) = (1 | batch) + (1 | batch:cask).
  list(
    name = "pastes_nested", dataset = "Pastes", family = "gaussian",
    lme4 = list(list(syntax = "lmer", formula = "strength ~ 1 + (1 | batch/cask)")),
    brms_formula = "strength ~ 1 + (1 | batch/cask)",
    stanmer = list(list(syntax = "plain", formula = "strength ~ 1 + (1 | batch/cask)")),
    priors = rbind(
      pr("Intercept", "student_t(3, 60.0533, 8.02762)"),
      pr("sd", "student_t(3, 0, 3.21105)", "Intercept", "batch"),
      pr("sd", "student_t(3, 0, 3.21105)", "Intercept", "batch:cask"),
      pr("sigma", "student_t(3, 0, 3.21105)")
    ),
    compare_lme4 = FALSE
  ),
  # One varying intercept, few groups (lme4's first example).
  list(
    name = "dyestuff_intercept", dataset = "Dyestuff", family = "gaussian",
    lme4 = list(list(syntax = "lmer", formula = "Yield ~ 1 + (1 | Batch)")),
    brms_formula = "Yield ~ 1 + (1 | Batch)",
    stanmer = list(list(syntax = "plain", formula = "Yield ~ 1 + (1 | Batch)")),
    priors = rbind(
      pr("Intercept", "student_t(3, 1527.5, 154.911)"),
      pr("sd", "student_t(3, 0, 61.9644)", "Intercept", "Batch"),
      pr("sigma", "student_t(3, 0, 61.9644)")
    ),
    compare_lme4 = FALSE
  ),
  # Binomial GLMM. In R the cbind, trials and proportion-with-weights forms are
  # one model (lme4 gives identical fits, recorded below), so one brms fit is
  # the reference for all three of stanmer's spellings.
  list(
    name = "cbpp_binomial", dataset = "cbpp", family = "binomial",
    lme4 = list(
      list(syntax = "cbind", formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
      list(syntax = "proportion_weights", formula = "incidence/size ~ period + (1 | herd)", weights = "size")
    ),
    brms_formula = "incidence | trials(size) ~ period + (1 | herd)",
    stanmer = list(
      list(syntax = "cbind", formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
      list(syntax = "trials", formula = "incidence | trials(size) ~ period + (1 | herd)"),
      list(syntax = "proportion_weights", formula = "incidence/size ~ period + (1 | herd)", weights = "size")
    ),
    priors = rbind(pr("Intercept", "student_t(3, -2.09803, 2.5)"), cbpp_b_priors),
    compare_lme4 = FALSE
  ),
  # Poisson GLMM with an offset.
  list(
    name = "cbpp_poisson_offset", dataset = "cbpp", family = "poisson",
    lme4 = list(list(syntax = "glmer", formula = "incidence ~ period + offset(log(size)) + (1 | herd)")),
    brms_formula = "incidence ~ period + offset(log(size)) + (1 | herd)",
    stanmer = list(list(syntax = "offset", formula = "incidence ~ period + offset(np.log(size)) + (1 | herd)")),
    priors = rbind(pr("Intercept", "student_t(3, 0.569768, 2.5)"), cbpp_b_priors),
    compare_lme4 = FALSE
  )
)

# R's coefficient names -> stanmer's ("(Intercept)" -> "Intercept", "period2" -> "period[2]")
stanmer_coef <- function(name, data) {
  if (name %in% c("(Intercept)", "Intercept")) return("Intercept")
  for (f in names(data)) {
    if (is.factor(data[[f]]) && startsWith(name, f) && substring(name, nchar(f) + 1) %in% levels(data[[f]])) {
      return(paste0(f, "[", substring(name, nchar(f) + 1), "]"))
    }
  }
  name
}

lme4_numbers <- function(spec, data, family) {
  f <- as.formula(spec$formula)
  t0 <- proc.time()[["elapsed"]]
  m <- if (family == "gaussian") {
    lmer(f, data = data, REML = TRUE)
  } else if (is.null(spec$weights)) {
    glmer(f, data = data, family = family)
  } else {
    data$.w <- data[[spec$weights]]
    glmer(f, data = data, family = family, weights = .w)
  }
  elapsed <- proc.time()[["elapsed"]] - t0
  print(summary(m))
  co <- summary(m)$coefficients
  fixef <- list()
  for (term in rownames(co)) {
    fixef[[stanmer_coef(term, data)]] <- list(estimate = co[term, 1], se = co[term, 2])
  }
  vc <- as.data.frame(VarCorr(m))
  sds <- list()
  cors <- list()
  sigma <- NULL
  for (i in seq_len(nrow(vc))) {
    if (vc$grp[i] == "Residual") {
      sigma <- vc$sdcor[i]
    } else if (is.na(vc$var2[i])) {
      sds[[paste0(vc$grp[i], "|", stanmer_coef(vc$var1[i], data))]] <- vc$sdcor[i]
    } else {
      cors[[paste0(vc$grp[i], "|", stanmer_coef(vc$var1[i], data), ",", stanmer_coef(vc$var2[i], data))]] <- vc$sdcor[i]
    }
  }
  out <- list(
    syntax = spec$syntax, formula = spec$formula, weights = spec$weights,
    method = if (family == "gaussian") "REML" else "Laplace",
    fixef = fixef, sd = sds, cor = cors, elapsed_s = elapsed
  )
  if (!is.null(sigma)) out$sigma <- sigma
  out
}

brms_priors <- function(priors) {
  do.call(c, lapply(seq_len(nrow(priors)), function(i) {
    p <- priors[i, ]
    set_prior(p$prior, class = p$class, coef = p$brms_coef, group = p$group)
  }))
}

summarise_draws <- function(x) list(mean = mean(x), sd = sd(x))

brms_numbers <- function(model, data) {
  fam <- switch(model$family, gaussian = gaussian(), binomial = binomial(), poisson = poisson())
  priors <- brms_priors(model$priors)
  print(priors)
  t0 <- proc.time()[["elapsed"]]
  m <- brm(
    as.formula(model$brms_formula), data = data, family = fam, prior = priors,
    chains = CHAINS, warmup = WARMUP, iter = ITER, cores = 2, seed = SEED, refresh = 0
  )
  elapsed <- proc.time()[["elapsed"]] - t0
  print(summary(m))
  print(prior_summary(m))
  draws <- as_draws_df(m)
  cols <- names(draws)
  fixef <- list()
  for (col in grep("^b_", cols, value = TRUE)) {
    fixef[[stanmer_coef(sub("^b_", "", col), data)]] <- summarise_draws(draws[[col]])
  }
  sds <- list()
  for (col in grep("^sd_", cols, value = TRUE)) {
    parts <- strsplit(sub("^sd_", "", col), "__", fixed = TRUE)[[1]]
    sds[[paste0(parts[1], "|", stanmer_coef(parts[2], data))]] <- summarise_draws(draws[[col]])
  }
  cors <- list()
  for (col in grep("^cor_", cols, value = TRUE)) {
    parts <- strsplit(sub("^cor_", "", col), "__", fixed = TRUE)[[1]]
    key <- paste0(parts[1], "|", stanmer_coef(parts[2], data), ",", stanmer_coef(parts[3], data))
    cors[[key]] <- summarise_draws(draws[[col]])
  }
  out <- list(
    formula = model$brms_formula, chains = CHAINS, warmup = WARMUP,
    draws = nrow(draws), seed = SEED,
    fixef = fixef, sd = sds, cor = cors,
    max_rhat = max(rhat(m), na.rm = TRUE),
    min_ess_bulk_ratio = min(neff_ratio(m), na.rm = TRUE),
    divergences = sum(subset(nuts_params(m), Parameter == "divergent__")$Value),
    stan_code = stancode(m),
    elapsed_s = elapsed
  )
  if ("sigma" %in% cols) out$sigma <- summarise_draws(draws$sigma)
  out
}

references <- list()
for (model in models) {
  cat("\n\n========== ", model$name, " ==========\n")
  data <- datasets[[model$dataset]]
  lme4_fits <- lapply(model$lme4, lme4_numbers, data = data, family = model$family)
  references[[model$name]] <- list(
    dataset = model$dataset,
    csv = paste0("data/", model$dataset, ".csv"),
    factors = factors[[model$dataset]],
    family = model$family,
    compare_lme4 = model$compare_lme4,
    stanmer = model$stanmer,
    priors = model$priors,
    lme4 = lme4_fits,
    brms = brms_numbers(model, data)
  )
}

write_json(references, "references.json", auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null")
writeLines(c(
  R.version.string,
  paste("lme4", packageVersion("lme4")),
  paste("brms", packageVersion("brms")),
  paste("rstan", packageVersion("rstan")),
  paste("StanHeaders", packageVersion("StanHeaders")),
  paste("date", format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"))
), "versions.txt")
cat("done\n")
