"""Treatment response between a baseline and a follow-up CT (RECIST 1.1, mRECIST, volume).

Typical use::

    from smoothseg.response import compare
    result = compare("baseline.nii.gz", "followup.nii.gz", "out/")
    result.categories["recist"].category
"""

from smoothseg.response.api import compare
from smoothseg.response.criteria import Category
from smoothseg.response.result import CompareResult

__all__ = ["Category", "CompareResult", "compare"]
