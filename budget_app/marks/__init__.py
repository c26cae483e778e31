"""What is happening to a cost line, as data every domain above can read: its marks
(declared in bilan N, held). The lowest domain package: it knows no cost line model, only
their types and ids; expenses and staff read their lines' marks here, claims writes
*declared*, and a hold is placed here whoever asks for it (the managing authority, a
referent's suspicion) without saying who asked or why (the asking domain keeps that)."""
