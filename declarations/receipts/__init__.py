"""Before and after a transmission: what the confirmation of « Transmettre » (and of the
gestionnaire's « Finaliser », « Archiver »…) says will happen — the document, the form version,
the exercise, the partners it goes to, the blocking checks — and the organism's accusé de
réception once it is sent (an e-mail to each of its active users, a block on the dossier page),
both read from what the lifecycle and the partners' rules already record."""
