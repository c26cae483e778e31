"""The controller draws a bilan's sample (service-done check by sampling, primer §8;
``claims.sampling``); the bilan page shows it with its seed, error rate and corrections."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...kernel.transactions import attempt
from .. import control
from ..forms import ActionForm
from . import bp
from .claims import PREFIX, _claim, _refused


@bp.route(PREFIX + "/<int:number>/echantillon", methods=["POST"])
def draw_sample(number):
    claim = _claim(number)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("claims.show", number=number))
    with attempt() as outcome:
        positions = control.draw_sample(claim, current_user)
    if outcome.refused:
        _refused(outcome.error)
    else:
        flash(_("Échantillon tiré (graine %(seed)s) : lignes %(positions)s.", seed=claim.sample_seed,
                positions=", ".join(str(position) for position in sorted(positions))), "success")
    return redirect(url_for("claims.show", number=number, _anchor="sample-title"))
