# lme4's two large datasets for the speed work, and lme4's own fits of them.
#
#   cd bench/data && Rscript export.R 2>&1 | tee export.log
#
# Writes InstEval.csv.gz and VerbAgg.csv.gz (read with pandas.read_csv; every
# grouping column is a factor in R: read them back as strings/categories;
# VerbAgg's r2 is "N"/"Y", and glmer models P(r2 == "Y")) and
# lme4_reference.json: fixed effects with standard errors, variance
# components and elapsed seconds of
#   lmer(y ~ service + (1|s) + (1|d) + (1|dept:service), InstEval)   (REML)
#   glmer(r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item), VerbAgg, binomial)
suppressMessages({
  library(lme4)
  library(jsonlite)
})

for (nm in c("InstEval", "VerbAgg")) {
  con <- gzfile(paste0(nm, ".csv.gz"), "w")
  write.csv(get(nm), con, row.names = FALSE)
  close(con)
}

numbers <- function(m, call, elapsed) {
  print(summary(m))
  co <- summary(m)$coefficients
  fixef <- lapply(rownames(co), function(term) list(estimate = co[term, 1], se = co[term, 2]))
  names(fixef) <- rownames(co)
  vc <- as.data.frame(VarCorr(m))
  sds <- as.list(vc$sdcor)
  names(sds) <- paste0(vc$grp, "|", ifelse(is.na(vc$var1), "", vc$var1))
  list(
    call = call, method = if (isLMM(m)) "REML" else "Laplace",
    nobs = nobs(m), ngrps = as.list(ngrps(m)),
    fixef = fixef, sd = sds, logLik = as.numeric(logLik(m)), elapsed_s = elapsed
  )
}

timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  value <- expr
  list(value = value, elapsed = proc.time()[["elapsed"]] - t0)
}

insteval_call <- "lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept:service), data = InstEval, REML = TRUE)"
ie <- timed(lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept:service), data = InstEval, REML = TRUE))
verbagg_call <- "glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = VerbAgg, family = binomial)"
va <- timed(glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = VerbAgg, family = binomial))

write_json(
  list(
    versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                    date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"), note = "elapsed_s on a shared 2-core machine"),
    InstEval = numbers(ie$value, insteval_call, ie$elapsed),
    VerbAgg = numbers(va$value, verbagg_call, va$elapsed)
  ),
  "lme4_reference.json", auto_unbox = TRUE, digits = NA, pretty = TRUE
)
cat("done\n")
