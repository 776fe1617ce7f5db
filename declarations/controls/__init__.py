"""Controls of a dossier ("Lancer la vérification"): the gestionnaire's rules over field names
(``forms_cms.Control``) run on the dossier's values, results grouped by sheet with links to
the cells, key aggregates in tabs; blocking failures prevent transmission
(:func:`forms_cms.verification.dossier_blocking_failures`)."""
