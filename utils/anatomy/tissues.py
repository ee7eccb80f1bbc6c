"""Tissue properties of the synthetic patient: CT density, MR relaxation and diffusion, PET uptake.

Values are physical quantities, so every scanner computes its image from them the way a real one does:
CT reads ``hu``; an MRI sequence turns ``pd``, ``t1_ms`` and ``t2_ms`` into signal with its TR and TE;
diffusion-weighted imaging uses ``adc``; PET uses the true SUV per tracer.

Sources. HU: Prokop M, Spiral and Multislice CT (radclass.mudr.org HU table); muscle 48 HU and bone from
Engelke K et al., J Frailty Sarcopenia Falls 2022 (DOI 10.22540/JFSF-07-038) and Jang S et al., Radiology
2019 (DOI 10.1148/radiol.2019181648). T1/T2 at 3 T: Stanisz GJ et al., Magn Reson Med 2005 and de Bazelaire
CMJ et al., Radiology 2004 (DOI 10.1148/radiol.2303021331); fat's T2 is its longer fast-spin-echo value
(J-coupling), which makes fat bright on T2-weighted FSE as it is on every clinical scanner; muscle and
liver T2 lie between de Bazelaire's values and Stanisz's (muscle 50 ms, liver 42 ms at 3 T), so that on
T2-weighted images liver stays brighter than muscle, as on clinical images. ADC (10^-3
mm^2/s): Taouli B and Koh DM, Radiology 2010 and Lewis S et al. via Kim et al., World J Radiol 2016 (DOI
10.4329/wjr.v8.i1.21); NET liver metastases by grade (G3 about 0.87), J Magn Reson Imaging 2016;44:1432.
68Ga-DOTATATE normal organs: Kuyumcu S et al., Ann Nucl Med 2013 (DOI 10.1007/s12149-013-0718-4; mean
SUVmax spleen 24.67, kidneys 14.30, adrenals 13.73, pituitary 9.74, liver 9.12); true (unblurred) values
sit a little below those SUVmax means, because noise raises a measured SUVmax. FDG values are typical adult
values for a fasting patient (Zincirkeser S et al., J Int Med Res 2007 for normal organ SUVs). The case
fixes only that the masses are FDG-avid and the liver lesions are not (Paul A et al., World J Nucl Med
2025, DOI 10.1055/s-0045-1810099). Values marked "course choice" are typical and unsourced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tissue:
    """One tissue: CT (HU), MR proton density (0-1), T1 and T2 (ms), ADC (10^-3 mm^2/s), SUV per tracer.

    ``fat_fraction`` (0-1) is the share of the MR signal from fat (suppressed on fat-saturated DWI);
    ``flow_void`` marks flowing blood (dark on spin echo); ``hu_texture`` is the standard deviation (HU)
    of a fine random texture (trabecular bone, faeces), 0 for homogeneous tissue.
    """

    hu: float
    pd: float
    t1_ms: float
    t2_ms: float
    adc: float
    suv_fdg: float
    suv_dotatate: float
    fat_fraction: float = 0.0
    flow_void: bool = False
    hu_texture: float = 0.0

    def with_uptake(self, suv_fdg: float, suv_dotatate: float) -> Tissue:
        """The same tissue with other true SUVs (a lesion, or a what-if)."""
        return replace(self, suv_fdg=suv_fdg, suv_dotatate=suv_dotatate)


T = Tissue
TISSUES: dict[str, Tissue] = {
    "air": T(-1000, 0.0, 1000, 1, 0.0, 0.0, 0.0),
    "gas": T(-950, 0.0, 1000, 1, 0.0, 0.0, 0.0),
    "lung": T(-840, 0.08, 1200, 25, 1.0, 0.5, 0.4),
    "fat": T(-100, 0.9, 382, 130, 0.05, 0.3, 0.2, fat_fraction=1.0),
    "skin": T(40, 0.7, 900, 40, 1.0, 0.8, 0.5),
    "muscle": T(48, 0.7, 898, 40, 1.4, 0.6, 0.6),
    "tendon": T(80, 0.3, 800, 8, 0.8, 0.5, 0.4),
    # Bone: a dense cortex (signal void on MRI) around cancellous bone with red/yellow marrow.
    "cortical_bone": T(1250, 0.03, 1000, 1, 0.0, 0.6, 0.4),
    "cancellous_bone": T(200, 0.75, 586, 49, 0.5, 1.3, 1.0, fat_fraction=0.45, hu_texture=45),
    "fatty_marrow": T(-40, 0.85, 420, 110, 0.3, 0.7, 0.5, fat_fraction=0.85, hu_texture=35),
    "sacral_marrow": T(120, 0.8, 500, 70, 0.5, 1.2, 0.9, fat_fraction=0.6, hu_texture=45),
    "nucleus_pulposus": T(85, 0.9, 1200, 120, 1.8, 0.5, 0.4),
    "annulus": T(100, 0.5, 1000, 30, 1.0, 0.5, 0.4),
    "cartilage": T(110, 0.7, 1100, 40, 1.4, 0.5, 0.4),
    "joint_fluid": T(10, 1.0, 3000, 800, 3.0, 0.4, 0.2),
    "csf": T(5, 1.0, 4000, 2000, 3.2, 0.3, 0.1),
    "neural": T(35, 0.75, 900, 80, 1.2, 1.2, 0.3),
    "brain": T(35, 0.8, 1100, 90, 0.8, 8.0, 0.15),
    "pituitary": T(45, 0.8, 1000, 80, 1.0, 2.0, 9.0),
    "salivary": T(25, 0.8, 900, 70, 1.3, 2.0, 2.5),
    "thyroid": T(100, 0.8, 900, 70, 1.4, 1.3, 4.0),
    "breast": T(20, 0.8, 1200, 60, 1.8, 0.6, 0.4),
    "blood": T(45, 0.9, 1930, 275, 2.0, 1.7, 1.2, flow_void=True),
    "myocardium": T(45, 0.8, 1100, 45, 1.5, 3.0, 1.2),
    "liver": T(58, 0.7, 809, 45, 1.28, 2.1, 7.5),
    "bile": T(5, 1.0, 2800, 700, 3.0, 0.5, 0.3),
    "spleen": T(48, 0.8, 1328, 61, 0.85, 1.8, 22.0),
    "pancreas": T(42, 0.7, 725, 43, 1.3, 1.4, 3.0),
    # The uncinate process: physiological SSTR uptake, the classic pitfall (same tissue otherwise).
    "uncinate": T(42, 0.7, 725, 43, 1.3, 1.4, 7.0),
    "kidney": T(32, 0.8, 1142, 76, 1.94, 2.5, 13.0),
    "renal_sinus_fat": T(-90, 0.9, 382, 130, 0.05, 0.3, 0.2, fat_fraction=1.0),
    "urine": T(8, 1.0, 3000, 1500, 3.0, 20.0, 40.0),
    "adrenal": T(25, 0.7, 900, 50, 1.2, 1.6, 12.0),
    "gut_wall": T(40, 0.75, 1000, 55, 1.5, 1.8, 2.5),
    "stomach_wall": T(42, 0.75, 1000, 55, 1.5, 2.0, 5.0),
    "gut_fluid": T(12, 1.0, 2500, 500, 2.8, 0.5, 0.3),
    "faeces": T(-60, 0.6, 800, 60, 1.0, 0.8, 0.3, hu_texture=120),
    "myometrium": T(45, 0.8, 1514, 79, 1.53, 2.0, 2.5),
    "endometrium": T(40, 0.9, 1453, 150, 1.44, 3.5, 2.5),
    "junctional_zone": T(48, 0.7, 1300, 38, 1.2, 2.0, 2.0),
    # Premenopausal ovary: a physiological FDG pitfall in the ovulatory phase (course choice: SUV 3.5).
    "ovary": T(30, 0.9, 1300, 120, 1.8, 3.5, 1.5),
    # The case's lesions. Masses: T1 about as dark as muscle, moderately bright T2, restricted diffusion (G3 NET),
    # FDG-avid and SSTR-positive with SSTR clearly dominant. Liver metastases: T1-dark, T2 moderately bright
    # (below fluid, above liver), restricted diffusion, FDG close to liver background, SSTR-positive.
    "presacral_mass": T(40, 0.8, 1300, 95, 0.85, 8.0, 26.0),
    "precoccygeal_mass": T(40, 0.8, 1300, 92, 0.87, 6.5, 20.0),
    "liver_metastasis": T(38, 0.85, 1150, 85, 0.95, 1.4, 22.0),
}
