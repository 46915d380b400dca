/**
 * Word lists for names and places, written for this generator. Names are common given and family
 * names drawn at random and combined, so they describe no real person; the accents and other
 * non-ASCII letters are there on purpose, to exercise encoding, search and blind indexes.
 */

export interface Culture {
  readonly weight: number;
  /** BCP-47 code and display of the language people of this group most often prefer. */
  readonly language: { readonly code: string; readonly display: string };
  readonly male: readonly string[];
  readonly female: readonly string[];
  readonly family: readonly string[];
}

const words = (text: string): readonly string[] => text.trim().split(/\s*,\s*/);

export const CULTURES: readonly Culture[] = [
  {
    weight: 56,
    language: { code: 'en-US', display: 'English (United States)' },
    male: words(`James, Robert, Michael, William, David, Richard, Joseph, Thomas, Charles, Daniel, Matthew, Anthony, Mark,
      Steven, Andrew, Joshua, Kevin, Brian, George, Edward, Ronald, Timothy, Jason, Ryan, Jacob, Gary, Nicholas, Eric,
      Jonathan, Liam, Noah, Oliver, Elijah, Lucas, Henry, Owen, Wyatt, Seán, Pádraig, Declan`),
    female: words(`Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah, Karen, Nancy, Lisa, Betty,
      Margaret, Sandra, Ashley, Dorothy, Kimberly, Emily, Donna, Michelle, Carol, Amanda, Melissa, Deborah, Olivia, Emma,
      Ava, Sophia, Charlotte, Amelia, Harper, Evelyn, Abigail, Zoë, Renée, Siobhán, Niamh`),
    family: words(`Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Taylor, Thomas, Moore, Jackson,
      Martin, Lee, Thompson, White, Harris, Clark, Lewis, Robinson, Walker, Young, Allen, King, Wright, Scott, Hill, Green,
      Adams, Baker, Nelson, Carter, Mitchell, Roberts, Turner, Phillips, Campbell, Parker, Evans, Edwards, Collins, Stewart,
      Morris, Murphy, Cook, Rogers, Morgan, Cooper, Peterson, Reed, Bailey, Bell, Kelly, Howard, Ward, Brooks, Bennett,
      Gray, Hughes, O'Brien, McAllister, Fitzgerald, Sullivan, Ó Súilleabháin`),
  },
  {
    weight: 18,
    language: { code: 'es', display: 'Spanish' },
    male: words(`José, Juan, Luis, Carlos, Jorge, Miguel, Alejandro, Andrés, Sebastián, Mateo, Santiago, Diego, Javier,
      Raúl, Óscar, Tomás, Rubén, Martín, Héctor, Ramón`),
    female: words(`María, Guadalupe, Sofía, Lucía, Valentina, Camila, Ximena, Mónica, Verónica, Inés, Beatriz, Ángela,
      Raquel, Pilar, Marisol, Daniela, Adriana, Rocío, Elena, Isabel`),
    family: words(`García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez, Torres, Flores,
      Rivera, Gómez, Díaz, Cruz, Morales, Reyes, Gutiérrez, Ortiz, Jiménez, Ruiz, Álvarez, Castillo, Vásquez, Romero,
      Núñez, Muñoz, Peña, Ibáñez, Castañeda`),
  },
  {
    weight: 5,
    language: { code: 'de', display: 'German' },
    male: words('Jürgen, Klaus, Stefan, Matthias, Jörg, Lukas, Felix, Maximilian, Tobias, Günter, Uwe, Dieter'),
    female: words('Ursula, Gisela, Anja, Katrin, Lena, Hannah, Sabine, Brigitte, Käthe, Heike, Birgit, Dörte'),
    family: words(`Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch,
      Bauer, Richter, Klein, Wolf, Schröder, Neumann, Zimmermann, Braun, Krüger, Hartmann, Köhler, König, Weiß, Groß`),
  },
  {
    weight: 4,
    language: { code: 'fr', display: 'French' },
    male: words('François, Jérôme, Étienne, Benoît, Noël, Loïc, Théo, Hugo, Julien, Rémi, Gaël, Léon'),
    female: words('Chloé, Zoë, Renée, Hélène, Élodie, Maëlle, Inès, Léa, Camille, Océane, Gaëlle, Cécile'),
    family: words(`Martin, Bernard, Dubois, Lefèvre, Moreau, Laurent, Girard, Rousseau, Fontaine, Chevalier, Bonnet,
      Mercier, Faure, Garnier, Brûlé, Leclère, Bélanger, Gagné, Côté, Lévesque`),
  },
  {
    weight: 4,
    language: { code: 'vi', display: 'Vietnamese' },
    male: words('Minh, Dũng, Hùng, Tuấn, Quang, Phúc, Đức, Bảo, Khoa, Long'),
    female: words('Lan, Hương, Mai, Ngọc, Thảo, Linh, Trang, Hạnh, Phương, Thu'),
    family: words('Nguyễn, Trần, Lê, Phạm, Hoàng, Huỳnh, Phan, Vũ, Võ, Đặng, Bùi, Đỗ, Hồ, Ngô, Dương'),
  },
  {
    weight: 4,
    language: { code: 'zh', display: 'Chinese' },
    male: words('Wei, Jun, Hao, Lei, Qiang, Jie, Tao, Yang, Bo, Zhiwei'),
    female: words('Xiu, Mei, Na, Fang, Jing, Yan, Ling, Xin, Hui, Yue'),
    family: words('Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, Hu'),
  },
  {
    weight: 3,
    language: { code: 'pt', display: 'Portuguese' },
    male: words('João, António, Gonçalo, Sérgio, Fábio, Vítor, Rui, Paulo, Tiago, Luís'),
    female: words('Conceição, Inês, Leonor, Beatriz, Mariana, Joana, Graça, Fátima, Lúcia, Luísa'),
    family: words(`Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Sousa, Gonçalves, Magalhães, Simões,
      Araújo, Brandão, Gusmão`),
  },
  {
    weight: 2,
    language: { code: 'da', display: 'Danish' },
    male: words('Søren, Bjørn, Anders, Lars, Henrik, Mads, Rasmus, Niels'),
    female: words('Mette, Ingrid, Freja, Astrid, Kirsten, Birthe, Signe, Ida'),
    family: words('Jensen, Nielsen, Hansen, Pedersen, Christensen, Larsen, Sørensen, Jørgensen, Møller, Kjær, Østergaard'),
  },
];

export const STREETS = words(`Maple, Oak, Pine, Cedar, Elm, Washington, Lake, Hill, Park, Main, Church, River, Sunset,
  Highland, Meadow, Forest, Willow, Spring, Chestnut, Walnut, Ridge, Valley, Mill, Orchard, Cherry, Birch, Lincoln,
  Jefferson, Franklin, Madison, Harbor, Prospect`);
export const STREET_KINDS = words('Street, Avenue, Road, Lane, Drive, Court, Way, Boulevard, Place, Terrace');

export interface Place {
  readonly city: string;
  readonly state: string;
  /** The first three digits of the town's ZIP codes. */
  readonly zip3: string;
  readonly areaCode: string;
}

const place = (city: string, state: string, zip3: string, areaCode: string): Place => ({ city, state, zip3, areaCode });

export const PLACES: readonly Place[] = [
  place('Springfield', 'MA', '011', '413'), place('Worcester', 'MA', '016', '508'), place('Portland', 'ME', '041', '207'),
  place('Burlington', 'VT', '054', '802'), place('Concord', 'NH', '033', '603'), place('Providence', 'RI', '029', '401'),
  place('Hartford', 'CT', '061', '860'), place('Albany', 'NY', '122', '518'), place('Buffalo', 'NY', '142', '716'),
  place('Trenton', 'NJ', '086', '609'), place('Harrisburg', 'PA', '171', '717'), place('Dover', 'DE', '199', '302'),
  place('Annapolis', 'MD', '214', '410'), place('Richmond', 'VA', '232', '804'), place('Raleigh', 'NC', '276', '919'),
  place('Columbia', 'SC', '292', '803'), place('Savannah', 'GA', '314', '912'), place('Tallahassee', 'FL', '323', '850'),
  place('Montgomery', 'AL', '361', '334'), place('Jackson', 'MS', '392', '601'), place('Nashville', 'TN', '372', '615'),
  place('Louisville', 'KY', '402', '502'), place('Columbus', 'OH', '432', '614'), place('Lansing', 'MI', '489', '517'),
  place('Madison', 'WI', '537', '608'), place('Springfield', 'IL', '627', '217'), place('Des Moines', 'IA', '503', '515'),
  place('Omaha', 'NE', '681', '402'), place('Topeka', 'KS', '666', '785'), place('Tulsa', 'OK', '741', '918'),
  place('Austin', 'TX', '787', '512'), place('El Paso', 'TX', '799', '915'), place('Santa Fe', 'NM', '875', '505'),
  place('Tucson', 'AZ', '857', '520'), place('Boise', 'ID', '837', '208'), place('Helena', 'MT', '596', '406'),
  place('Cheyenne', 'WY', '820', '307'), place('Denver', 'CO', '802', '303'), place('Reno', 'NV', '895', '775'),
  place('Sacramento', 'CA', '958', '916'), place('Fresno', 'CA', '937', '559'), place('Olympia', 'WA', '985', '360'),
  place('Anchorage', 'AK', '995', '907'), place('Honolulu', 'HI', '968', '808'),
];

export const ORGANIZATION_KINDS = words(`General Hospital, Medical Center, Community Health Center, Family Practice,
  Regional Hospital, Primary Care Associates, Health Clinic, Pediatrics and Family Medicine`);

/**
 * A phone number in the 555-0100 to 555-0199 block, which North American numbering reserves for
 * fiction: it can never ring a real person.
 */
export function fictionalPhone(areaCode: string, last2: number): string {
  return `(${areaCode}) 555-01${String(last2).padStart(2, '0')}`;
}

/** Lower-case ASCII letters only, for e-mail local parts: `Zoë Ó Súilleabháin` becomes `zoeosuilleabhain`. */
export function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ø/g, 'o')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .replace(/đ/g, 'd')
    .replace(/[^a-z0-9]/g, '');
}
