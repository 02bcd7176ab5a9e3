"""A fixed Spanish (Chile) FAQ set: passages a brokerage might load, and questions a lead might
write, each with the passage that answers it. The questions paraphrase; few share the passage's
words. Used by the ranking tests, `bench/knowledge.py` and the offline-model comparison recorded
in docs/architecture.md."""

PASSAGES: dict[str, str] = {
    "horario": "Nuestra oficina atiende de lunes a viernes de 9:00 a 18:30 y los sábados de 10:00 a 14:00. "
               "Los domingos y festivos permanece cerrada.",
    "oficina": "La sala de ventas está en Avenida Providencia 1234, local 5, a dos cuadras del metro Pedro de "
               "Valdivia. Hay estacionamiento para visitas.",
    "reserva": "Para reservar un departamento se paga una reserva de 20 UF, que se descuenta del pie al firmar "
               "la promesa de compraventa. Si el crédito es rechazado, la reserva se devuelve íntegra.",
    "pie": "El pie mínimo es el 10% del valor de la propiedad y puede pagarse en hasta 36 cuotas sin interés "
           "durante la construcción.",
    "credito": "Trabajamos con los principales bancos para el crédito hipotecario, que financia hasta el 90% del "
               "valor de la vivienda a plazos de 20, 25 o 30 años.",
    "preaprobacion": "Te recomendamos pedir una preaprobación de crédito en tu banco antes de reservar; con tu "
                     "carnet y tus últimas tres liquidaciones de sueldo el banco te responde en pocos días.",
    "dicom": "Si tienes deudas morosas registradas en DICOM, los bancos normalmente rechazan el crédito. Puedes "
             "obtener tu informe de deudas gratis en el sitio de la Comisión para el Mercado Financiero.",
    "ds1": "El subsidio DS1 del Minvu ayuda a familias de sectores medios a comprar una vivienda de hasta 2.200 UF; "
           "se postula en los llamados del año y exige un ahorro mínimo en una cuenta de ahorro para la vivienda.",
    "ds19": "Los proyectos con subsidio DS19 de integración social permiten aplicar el subsidio directamente en el "
            "precio y tienen departamentos desde 1.900 UF.",
    "gastos": "Los gastos operacionales (notaría, Conservador de Bienes Raíces, tasación y estudio de títulos) "
              "suman alrededor del 2% del precio y los paga el comprador al escriturar.",
    "entrega": "La entrega de los departamentos del proyecto Parque Ñuñoa está programada para el segundo semestre "
               "de 2027; los de entrega inmediata se pueden habitar apenas se firma la escritura.",
    "estacionamiento": "Los estacionamientos y bodegas se venden por separado: un estacionamiento cuesta 350 UF "
                       "y una bodega 90 UF.",
    "mascotas": "En todos nuestros edificios se permiten perros y gatos, según el reglamento de copropiedad de "
                "cada comunidad.",
    "gastos_comunes": "Los gastos comunes estimados van desde $2.000 por metro cuadrado al mes, e incluyen "
                      "conserjería 24 horas, mantención de áreas verdes y piscina.",
    "comision": "Comprar un departamento nuevo directamente con nosotros no tiene comisión de corretaje para "
                "el comprador.",
    "visitas": "Puedes visitar el piloto de cada proyecto con un ejecutivo; las visitas se agendan con al menos "
               "un día de anticipación.",
    "arriendo": "También administramos propiedades en arriendo: cobramos el 50% del primer mes de arriendo y "
                "exigimos un mes de garantía.",
    "postventa": "Todas las viviendas tienen garantía de postventa: 10 años para la estructura, 5 para "
                 "instalaciones y 3 para terminaciones.",
    "documentos": "Para promesar necesitas cédula de identidad, certificado de AFP con las últimas 12 "
                  "cotizaciones, las tres últimas liquidaciones de sueldo y tu carpeta tributaria si eres "
                  "independiente.",
    "inversion": "Si compras para invertir, los departamentos de un dormitorio cerca del metro tienen una "
                 "rentabilidad por arriendo de alrededor del 4,5% anual.",
}

# (question, the passage that answers it)
QUESTIONS: list[tuple[str, str]] = [
    ("¿A qué hora abren el sábado?", "horario"),
    ("¿Atienden los domingos?", "horario"),
    ("¿Dónde queda la sala de ventas?", "oficina"),
    ("¿Cuál es la dirección de su oficina?", "oficina"),
    ("¿Cuánto tengo que pagar para apartar un departamento?", "reserva"),
    ("Si el banco no me aprueba, ¿me devuelven la plata de la reserva?", "reserva"),
    ("¿Cuánto es el pie mínimo?", "pie"),
    ("¿Puedo pagar el pie en cuotas?", "pie"),
    ("¿Qué porcentaje financia el banco?", "credito"),
    ("¿A cuántos años puedo sacar el hipotecario?", "credito"),
    ("¿Qué papeles pide el banco para la preaprobación?", "preaprobacion"),
    ("Estoy en DICOM, ¿puedo comprar igual?", "dicom"),
    ("¿Cómo sé si tengo deudas morosas?", "dicom"),
    ("¿Qué es el subsidio para la clase media?", "ds1"),
    ("¿Cómo postulo al DS1?", "ds1"),
    ("¿Tienen proyectos de integración social?", "ds19"),
    ("¿Cuánto cuestan la notaría y el conservador?", "gastos"),
    ("¿Cuándo entregan Parque Ñuñoa?", "entrega"),
    ("¿Tienen departamentos para mudarse ya?", "entrega"),
    ("¿El estacionamiento viene incluido en el precio?", "estacionamiento"),
    ("¿Cuánto vale una bodega?", "estacionamiento"),
    ("¿Puedo vivir con mi perro?", "mascotas"),
    ("¿Cuánto se paga de gastos comunes?", "gastos_comunes"),
    ("¿Ustedes cobran comisión?", "comision"),
    ("Quiero ver el departamento piloto", "visitas"),
    ("¿Administran arriendos?", "arriendo"),
    ("¿Qué garantía tienen las terminaciones?", "postventa"),
    ("¿Qué documentos necesito para firmar la promesa?", "documentos"),
    ("Soy independiente, ¿qué me piden?", "documentos"),
    ("¿Conviene comprar para arrendar?", "inversion"),
]
