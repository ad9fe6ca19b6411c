"""NAO value-for-money risk: criteria assessment, foregone-savings Monte Carlo,
provider-failure hazard (CQC proxy), risk register and claim verdicts."""
